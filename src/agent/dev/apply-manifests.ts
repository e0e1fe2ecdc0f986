// `kubectl apply`, just enough for the dev command: create each object of the YAML files
// (multi-document) on the API server, skipping those that already exist.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { statusOf } from '../api/kube-api.ts';
import { createRestClient } from '../api/rest-client.ts';

interface KubeObject { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; [k: string]: unknown }

type Create = (namespace: string, body: any) => Promise<unknown>;

function creators(kubeConfig: KubeConfig): Record<string, Create> {
  const api = createRestClient(kubeConfig);
  const inNamespace = (resource: string): Create => (namespace, body) =>
    api.send({ method: 'POST', path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}`, body });
  return {
    Pod: inNamespace('pods'),
    ConfigMap: inNamespace('configmaps'),
    Secret: inNamespace('secrets'),
    RuntimeClass: (_namespace, body) => api.send({ method: 'POST', path: '/apis/node.k8s.io/v1/runtimeclasses', body }),
  };
}

export function readManifests(path: string): KubeObject[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(path, f))
    : [path];
  return files.flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJSON() as KubeObject).filter(Boolean));
}

/** Creates the objects; returns "Kind/name" of each one created. */
export async function applyManifests(kubeConfig: KubeConfig, objects: KubeObject[]): Promise<string[]> {
  const created: string[] = [];
  const create = creators(kubeConfig);
  for (const obj of objects) {
    const createKind = obj.kind ? create[obj.kind] : undefined;
    if (!createKind) throw new Error(`dev cannot apply kind ${obj.kind}`);
    try {
      await createKind(obj.metadata?.namespace ?? 'default', obj);
      created.push(`${obj.kind}/${obj.metadata?.name}`);
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
  }
  return created;
}
