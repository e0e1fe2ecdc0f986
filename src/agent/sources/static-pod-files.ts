// Static pod manifests on disk → pods, as the kubelet's file source makes them: the name
// gets "-<nodeName>", the namespace defaults to "default", and the uid is a hash of the
// file's content, path and node name, so a changed file is a new pod (old one stops).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { V1Pod } from '@kubernetes/client-node';
import { configHashAnnotation, configSourceAnnotation } from './pod-update.ts';

export interface StaticPodFile {
  path: string;
  pod?: V1Pod;
  /** Why the file gave no pod (logged; the kubelet skips such files too). */
  error?: string;
}

export function staticPodUid(path: string, content: string, nodeName: string): string {
  return createHash('md5').update(`file:${path}\nhost:${nodeName}\n`).update(content).digest('hex');
}

export function podFromManifest(path: string, content: string, nodeName: string): V1Pod {
  const doc = parseYaml(content) as V1Pod | null;
  if (!doc || typeof doc !== 'object' || doc.kind !== 'Pod') throw new Error('not a Pod manifest (kind: Pod)');
  if (!doc.metadata?.name) throw new Error('metadata.name is required');
  if (!doc.spec?.containers?.length) throw new Error('spec.containers must not be empty');
  const uid = staticPodUid(path, content, nodeName);
  return {
    ...doc,
    apiVersion: 'v1',
    metadata: {
      ...doc.metadata,
      name: `${doc.metadata.name}-${nodeName}`,
      namespace: doc.metadata.namespace || 'default',
      uid,
      annotations: { ...doc.metadata.annotations, [configSourceAnnotation]: 'file', [configHashAnnotation]: uid },
    },
    spec: {
      ...doc.spec,
      nodeName,
      restartPolicy: doc.spec.restartPolicy ?? 'Always',
      // Static pods get the API server's defaults nobody else would apply to them.
      terminationGracePeriodSeconds: doc.spec.terminationGracePeriodSeconds ?? 30,
      enableServiceLinks: doc.spec.enableServiceLinks ?? false,
    },
    status: { phase: 'Pending' },
  };
}

function manifestPaths(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    return [];
  }
  if (st.isFile()) return [path];
  return readdirSync(path)
    .filter((name) => !name.startsWith('.') && /\.(ya?ml|json)$/.test(name))
    .sort()
    .map((name) => join(path, name))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
}

/** Read every manifest under `path` (a directory, or one file). */
export function readStaticPodFiles(path: string, nodeName: string): StaticPodFile[] {
  return manifestPaths(path).map((p) => {
    try {
      return { path: p, pod: podFromManifest(p, readFileSync(p, 'utf8'), nodeName) };
    } catch (err) {
      return { path: p, error: (err as Error).message };
    }
  });
}
