// Decoding of Kubernetes protobuf request bodies ("k8s\0" + runtime.Unknown envelope), which
// kubectl's typed clients send for `kubectl create namespace|configmap|secret|serviceaccount|service`.
// Answers are always JSON; clients accept it.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ApiError, badRequest } from './errors.ts';

const root = protobuf.loadSync(fileURLToPath(new URL('./proto/k8s-objects.proto', import.meta.url)));
const envelope = root.lookupType('k8s.Unknown');
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const messageByKind: Record<string, string> = {
  'v1/Namespace': 'k8s.Namespace',
  'v1/ConfigMap': 'k8s.ConfigMap',
  'v1/Secret': 'k8s.Secret',
  'v1/ServiceAccount': 'k8s.ServiceAccount',
  'v1/Service': 'k8s.Service',
  'authentication.k8s.io/v1/TokenRequest': 'k8s.TokenRequest',
  'authentication.k8s.io/v1/TokenReview': 'k8s.TokenReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'k8s.SelfSubjectReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'k8s.SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'k8s.SubjectAccessReview',
  // Its spec has only the first two fields of SubjectAccessReviewSpec, with the same numbers.
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'k8s.SelfSubjectAccessReview',
  'rbac.authorization.k8s.io/v1/Role': 'k8s.Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'k8s.ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'k8s.RoleBinding',
  // The same fields, with the same numbers.
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'k8s.RoleBinding',
  'certificates.k8s.io/v1/CertificateSigningRequest': 'k8s.CertificateSigningRequest',
};

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

function timeToString(t: { seconds?: number | string } | undefined): string | undefined {
  if (!t || t.seconds === undefined) return undefined;
  return new Date(Number(t.seconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(magic)) throw badRequest('protobuf body lacks the k8s envelope prefix');
  let unknown: Record<string, any>;
  try {
    unknown = envelope.toObject(envelope.decode(body.subarray(4)), { defaults: false }) as Record<string, any>;
  } catch (err) {
    throw badRequest(`unable to decode protobuf body: ${(err as Error).message}`);
  }
  const apiVersion = unknown.typeMeta?.apiVersion ?? '';
  const kind = unknown.typeMeta?.kind ?? '';
  const typeName = messageByKind[`${apiVersion}/${kind}`];
  if (!typeName) {
    throw new ApiError(415, 'UnsupportedMediaType', `protobuf bodies of ${apiVersion}/${kind} are not supported by this server; send application/json`);
  }
  const type = root.lookupType(typeName);
  let obj: Record<string, any>;
  try {
    // Bytes as base64 strings: exactly how JSON carries Secret data and ConfigMap binaryData.
    obj = type.toObject(type.decode(unknown.raw ?? Buffer.alloc(0)), { bytes: String, longs: Number, defaults: false }) as Record<string, any>;
  } catch (err) {
    throw badRequest(`unable to decode ${kind} from protobuf: ${(err as Error).message}`);
  }
  const meta = obj.metadata ?? {};
  for (const k of ['creationTimestamp', 'deletionTimestamp']) {
    if (meta[k] !== undefined) meta[k] = timeToString(meta[k]);
  }
  const decoded = pruneUnset({ apiVersion, kind, ...obj, metadata: meta }) as Record<string, any>;
  if (kind === 'Service') serviceFromProtobuf(decoded);
  if (kind === 'CertificateSigningRequest') {
    for (const c of decoded.status?.conditions ?? []) {
      for (const k of ['lastUpdateTime', 'lastTransitionTime']) if (c[k] !== undefined) c[k] = timeToString(c[k]);
    }
  }
  return decoded;
}

/** A Service as its JSON would carry it: int-or-string target ports, and no zero node ports or false flags (omitempty in JSON). */
function serviceFromProtobuf(svc: Record<string, any>): void {
  const spec = svc.spec ?? {};
  for (const port of Array.isArray(spec.ports) ? spec.ports : []) {
    const target = port.targetPort;
    if (target && typeof target === 'object') port.targetPort = Number(target.type ?? 0) === 1 ? (target.strVal ?? '') : (target.intVal ?? 0);
    if (port.nodePort === 0) delete port.nodePort;
  }
  if (spec.healthCheckNodePort === 0) delete spec.healthCheckNodePort;
  if (spec.publishNotReadyAddresses === false) delete spec.publishNotReadyAddresses;
}

// Go's encoder writes non-pointer scalars even when unset ("", 0): drop them, as JSON would
// omit them. Map values (labels, data, ...) are user data and stay as they are.
const userMaps = new Set(['labels', 'annotations', 'data', 'binaryData', 'stringData', 'matchLabels']);

function pruneUnset(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => pruneUnset(v));
  if (value === null || typeof value !== 'object' || userMaps.has(key)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === '' || (v === 0 && k === 'generation')) continue;
    out[k] = pruneUnset(v, k);
  }
  return out;
}
