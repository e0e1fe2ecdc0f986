// The environment of a container, as the kubelet's makeEnvironmentVariables: envFrom first,
// then env in order, each value expanded against what is defined before it; valueFrom reads
// the pod's fields, its resources, ConfigMaps and Secrets. A missing non-optional reference
// fails the container with CreateContainerConfigError. The service variables
// (src/pod/service-env.ts) come last, each unless the container defines that name itself, and
// $(VAR) in env values may name them (then command and args, which expand against the result).
import type { V1ConfigMap, V1Container, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { resourceValue } from '../../pod/resource-value.ts';
import { expandVars } from './env-expansion.ts';
import { metadataFieldValue } from '../../pod/metadata-field.ts';
import { serviceEnvFor } from '../../pod/service-env.ts';

export interface EnvSources {
  nodeName: string;
  hostIP: string;
  podIPs: string[];
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  /** Every Service the agent knows (all namespaces), for the service variables; it may refuse
   * (throw) while it has not listed them yet. Absent: no API server, no service variables. */
  services?(pod: V1Pod): Promise<readonly V1Service[]>;
}

/** A container config problem the user must fix (kubelet reason CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

// Environment variable names the API accepts (C identifiers plus '.', '-').
const VALID_ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export async function containerEnv(pod: V1Pod, container: V1Container, sources: EnvSources): Promise<Array<{ key: string; value: string }>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const serviceEnv = sources.services ? serviceEnvFor(await sources.services(pod), namespace, pod.spec?.enableServiceLinks) : new Map<string, string>();
  const env = new Map<string, string>();
  // What the container defined so far, then the service variables (the kubelet's MappingFuncFor).
  const lookup = (name: string) => env.get(name) ?? serviceEnv.get(name);

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      const cm = await sources.getConfigMap(namespace, from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      data = cm.data ?? {};
    } else if (from.secretRef) {
      const secret = await sources.getSecret(namespace, from.secretRef.name ?? '');
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      data = secretData(secret);
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      if (VALID_ENV_NAME.test(prefix + k)) env.set(prefix + k, v);
    }
  }

  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      const value = await valueFrom(pod, container, e.valueFrom, sources);
      if (value !== undefined) env.set(e.name, value);
      continue;
    }
    env.set(e.name, expandVars(e.value ?? '', lookup));
  }
  // The container's own names win over the service variables.
  for (const [key, value] of serviceEnv) if (!env.has(key)) env.set(key, value);
  return [...env].map(([key, value]) => ({ key, value }));
}

/** command and args with $(VAR) references expanded against the container's environment. */
export function expandCommand(parts: string[] | undefined, env: Array<{ key: string; value: string }>): string[] {
  const byName = new Map(env.map(e => [e.key, e.value]));
  return (parts ?? []).map(p => expandVars(p, name => byName.get(name)));
}

async function valueFrom(pod: V1Pod, container: V1Container, from: NonNullable<NonNullable<V1Container['env']>[number]['valueFrom']>, sources: EnvSources): Promise<string | undefined> {
  const namespace = pod.metadata?.namespace ?? 'default';
  if (from.fieldRef) return fieldValue(pod, from.fieldRef.fieldPath, sources);
  if (from.resourceFieldRef) return resourceValue(pod, from.resourceFieldRef.containerName || container.name, from.resourceFieldRef.resource, String(from.resourceFieldRef.divisor ?? '1'));
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const cm = await sources.getConfigMap(namespace, ref.name ?? '');
    if (!cm) {
      if (ref.optional) return undefined;
      throw new ContainerConfigError(`configmap "${ref.name}" not found`);
    }
    const value = cm.data?.[ref.key];
    if (value === undefined) {
      if (ref.optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name}`);
    }
    return value;
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const secret = await sources.getSecret(namespace, ref.name ?? '');
    if (!secret) {
      if (ref.optional) return undefined;
      throw new ContainerConfigError(`secret "${ref.name}" not found`);
    }
    const value = secretData(secret)[ref.key];
    if (value === undefined) {
      if (ref.optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${namespace}/${ref.name}`);
    }
    return value;
  }
  return undefined;
}

function fieldValue(pod: V1Pod, path: string, sources: EnvSources): string {
  const metadataField = metadataFieldValue(pod.metadata, path);
  if (metadataField !== undefined) return metadataField;
  switch (path) {
    case 'spec.nodeName': return pod.spec?.nodeName ?? sources.nodeName;
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': return sources.hostIP;
    case 'status.hostIPs': return sources.hostIP;
    case 'status.podIP': return podIPs(pod, sources)[0] ?? '';
    case 'status.podIPs': return podIPs(pod, sources).join(',');
    default: throw new ContainerConfigError(`unsupported fieldPath: ${path}`);
  }
}

function podIPs(pod: V1Pod, sources: EnvSources): string[] {
  return pod.spec?.hostNetwork ? [sources.hostIP] : sources.podIPs;
}

export function secretData(secret: V1Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return { ...out, ...(secret.stringData ?? {}) };
}
