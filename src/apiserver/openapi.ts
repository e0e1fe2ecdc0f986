// A minimal OpenAPI v3 description, one document per group-version, as kubectl needs it:
// `kubectl apply` checks that PATCH of each kind accepts the fieldValidation parameter
// (then the server validates and kubectl skips client-side schema validation). Schemas are
// permissive: unknown fields are preserved. Kind schemas carry no x-kubernetes-group-version-kind
// on purpose, so kubectl computes strategic merge patches from its compiled-in types.
import { createHash } from 'node:crypto';
import { apiVersionOf, groupVersions, isReviewType, resourceTypes, type ResourceType } from './registry.ts';

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function schemaName(t: ResourceType): string {
  // Upstream names packages by the group's first label: io.k8s.api.rbac.v1.Role.
  const pkg = t.group ? t.group.split('.')[0] : 'core';
  return `io.k8s.api.${pkg}.${t.version}.${t.kind}`;
}

const queryParam = (name: string, type = 'string') => ({ name, in: 'query', schema: { type }, description: name });

function operations(t: ResourceType, item: boolean) {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const ref = { $ref: `#/components/schemas/${schemaName(t)}` };
  const ok = { 200: { description: 'OK', content: { 'application/json': { schema: ref } } } };
  const op = (action: string, params: ReturnType<typeof queryParam>[]) => ({
    operationId: `${action}${t.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    parameters: params,
    responses: ok,
  });
  const write = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
  if (!item) {
    return {
      get: op('list', [queryParam('labelSelector'), queryParam('fieldSelector'), queryParam('watch', 'boolean')]),
      post: { ...op('post', write), requestBody: { content: { 'application/json': { schema: ref } } } },
      delete: op('deletecollection', [queryParam('labelSelector'), queryParam('fieldSelector')]),
    };
  }
  return {
    get: op('get', []),
    put: { ...op('put', write), requestBody: { content: { 'application/json': { schema: ref } } } },
    patch: { ...op('patch', [...write, queryParam('force', 'boolean')]), requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } } } } },
    delete: op('delete', [queryParam('gracePeriodSeconds', 'integer')]),
  };
}

function gvDocument(group: string, version: string) {
  const types = resourceTypes.filter((t) => t.group === group && t.version === version);
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of types) {
    const base = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    if (isReviewType(t)) {
      // Reviews are create-only: one POST on the collection, no item paths.
      paths[base] = { post: operations(t, false).post };
    } else {
      paths[base] = operations(t, false);
      paths[`${base}/{name}`] = operations(t, true);
    }
    schemas[schemaName(t)] = {
      type: 'object',
      description: `${t.kind} (${apiVersionOf(t)})`,
      properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      'x-kubernetes-preserve-unknown-fields': true,
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } };
}

const documents = new Map<string, { body: string; hash: string }>();
for (const gv of groupVersions()) {
  const body = JSON.stringify(gvDocument(gv.group, gv.version));
  documents.set(gvPath(gv.group, gv.version), { body, hash: createHash('sha512').update(body).digest('hex').slice(0, 128).toUpperCase() });
}

/** GET /openapi/v3: where each group-version's document lives. */
export function openApiV3Index(): string {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [p, d] of documents) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` };
  return JSON.stringify({ paths });
}

/** GET /openapi/v3/<gv path>: the document, or undefined when no such group-version is served. */
export function openApiV3Document(path: string): string | undefined {
  return documents.get(path)?.body;
}
