// `kubectl apply`, just enough for the dev command: create each object of the YAML files
// (multi-document) on the API server, skipping those that already exist.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { HttpClient } from '../api/http-client.ts';
import { ApiError } from '../api/http-client.ts';

interface KubeObject { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; [k: string]: unknown }

const collections: Record<string, (ns: string) => string> = {
  Pod: (ns) => `/api/v1/namespaces/${ns}/pods`,
  ConfigMap: (ns) => `/api/v1/namespaces/${ns}/configmaps`,
  Secret: (ns) => `/api/v1/namespaces/${ns}/secrets`,
  RuntimeClass: () => '/apis/node.k8s.io/v1/runtimeclasses',
};

export function readManifests(path: string): KubeObject[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(path, f))
    : [path];
  return files.flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJSON() as KubeObject).filter(Boolean));
}

/** Creates the objects; returns "Kind/name" of each one created. */
export async function applyManifests(http: HttpClient, objects: KubeObject[]): Promise<string[]> {
  const created: string[] = [];
  for (const obj of objects) {
    const collection = obj.kind ? collections[obj.kind] : undefined;
    if (!collection) throw new Error(`dev cannot apply kind ${obj.kind}`);
    try {
      await http.call('POST', collection(obj.metadata?.namespace ?? 'default'), obj);
      created.push(`${obj.kind}/${obj.metadata?.name}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
  return created;
}
