// The files of the content volumes (configMap, secret, downwardAPI, projected): what to write,
// as a payload for the atomic writer. Objects are read fresh on every call, so a refresh picks
// up changed data; tokens come from the per-pod token cache.
import type { V1ConfigMapVolumeSource, V1Pod, V1ProjectedVolumeSource, V1SecretVolumeSource, V1DownwardAPIVolumeSource } from '@kubernetes/client-node';
import type { Payload } from './atomic-writer.ts';
import { downwardApiPayload } from './downward-api.ts';
import { configMapBytes, DEFAULT_MODE, keysPayload, secretBytes } from './key-projection.ts';
import type { VolumeSources } from './pod-volumes.ts';
import type { ServiceAccountTokens } from './service-account-tokens.ts';
import { VolumeContentError } from './setup-errors.ts';

export interface ContentContext {
  pod: V1Pod;
  /** undefined when the agent runs without an API server. */
  sources: VolumeSources | undefined;
  tokens: ServiceAccountTokens | undefined;
}

function needSources(ctx: ContentContext, what: string): VolumeSources {
  if (!ctx.sources) throw new VolumeContentError(`${what} volumes need an API server, and this agent runs standalone (only emptyDir, hostPath and downwardAPI work)`);
  return ctx.sources;
}

export async function configMapPayload(ctx: ContentContext, src: V1ConfigMapVolumeSource): Promise<Payload> {
  const sources = needSources(ctx, 'configMap');
  const cm = await sources.getConfigMap(namespaceOf(ctx.pod), src.name ?? '');
  return keysPayload({ kind: 'configmap', name: src.name ?? '', data: configMapBytes(cm), items: src.items, defaultMode: src.defaultMode, optional: src.optional });
}

export async function secretPayload(ctx: ContentContext, src: V1SecretVolumeSource): Promise<Payload> {
  const sources = needSources(ctx, 'secret');
  const secret = await sources.getSecret(namespaceOf(ctx.pod), src.secretName ?? '');
  return keysPayload({ kind: 'secret', name: src.secretName ?? '', data: secretBytes(secret), items: src.items, defaultMode: src.defaultMode, optional: src.optional });
}

export function downwardApiVolumePayload(ctx: ContentContext, src: V1DownwardAPIVolumeSource): Payload {
  return downwardApiPayload(ctx.pod, src.items, src.defaultMode);
}

/**
 * All sources into one payload (a later source wins a path both write). Errors of the sources are
 * gathered and reported together, as the kubelet does. With fsGroup set the token is 0600, so
 * that fsGroup ownership makes it 0640 and not readable by others.
 */
export async function projectedPayload(ctx: ContentContext, src: V1ProjectedVolumeSource, fsGroupSet: boolean): Promise<Payload> {
  const payload: Payload = new Map();
  const defaultMode = src.defaultMode ?? DEFAULT_MODE;
  const errors: string[] = [];
  for (const s of src.sources ?? []) {
    try {
      let part: Payload;
      if (s.configMap) part = await configMapPayload(ctx, { ...s.configMap, defaultMode });
      else if (s.secret) part = await secretPayload(ctx, { secretName: s.secret.name, items: s.secret.items, optional: s.secret.optional, defaultMode });
      else if (s.downwardAPI) part = downwardApiPayload(ctx.pod, s.downwardAPI.items, defaultMode);
      else if (s.serviceAccountToken) {
        needSources(ctx, 'serviceAccountToken');
        const token = await ctx.tokens!.token(ctx.pod, s.serviceAccountToken).catch((err: unknown) => {
          throw new VolumeContentError(`failed to fetch token: ${err instanceof Error ? err.message : String(err)}`);
        });
        part = new Map([[s.serviceAccountToken.path, { data: Buffer.from(token), mode: fsGroupSet ? 0o600 : defaultMode }]]);
      } else {
        const kind = Object.keys(s).find(k => (s as Record<string, unknown>)[k] !== undefined) ?? 'empty';
        throw new VolumeContentError(`projected ${kind} sources are not supported by mini-kubelet`);
      }
      for (const [path, file] of part) payload.set(path, file);
    } catch (err) {
      if (!(err instanceof VolumeContentError)) throw err;
      errors.push(err.message);
    }
  }
  if (errors.length === 1) throw new VolumeContentError(errors[0]!);
  if (errors.length > 1) throw new VolumeContentError(`[${errors.join(', ')}]`);
  return payload;
}

function namespaceOf(pod: V1Pod): string {
  return pod.metadata?.namespace ?? 'default';
}
