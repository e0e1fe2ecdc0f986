// The verbs on resource URLs: get, list (paged, or as a Table), watch, create, update, patch,
// delete, deletecollection, and the pods/binding subresource.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { enforceFieldValidation, type FieldValidation } from './unknown-fields.ts';
import { ApiError, badRequest, gone, methodNotAllowed, unsupportedPatchType } from './errors.ts';
import { mediaTypeOf, parseBody, readBody, sendJson } from './http-io.ts';
import { applyPatch, applyStrategicMergePatch, patchTypeOf } from './patch.ts';
import { apiVersionOf, type ResourceType } from './registry.ts';
import type { DeleteOptions, ResourceService } from './resources.ts';
import type { ResourceRoute } from './routes.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { KubeObject } from './store.ts';
import { toTable, wantsTable, type TableOptions } from './tables.ts';
import type { WatchHub } from './watch.ts';
import type { UserInfo } from './auth/attributes.ts';
import { admitWrite, type WriteRequest } from './auth/write-admission.ts';
import { refuseMastersRequest } from './certificates/csr-admission.ts';
import { stampRequester } from './certificates/csr-objects.ts';

export class ResourceHandlers {
  constructor(
    private readonly resources: ResourceService, private readonly watches: WatchHub,
    /** fieldValidation when a request names none (kube-apiserver: Warn). */
    private readonly defaultFieldValidation: FieldValidation = 'Warn',
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams, user: UserInfo): Promise<void> {
    const { type, name, subresource } = route;
    const admit = (w: Omit<WriteRequest, 'type' | 'namespace'>) => admitWrite(user, { type, namespace, ...w }, this.resources.store);
    const namespace = route.namespace ?? '';
    const method = req.method ?? 'GET';
    // Refused rather than ignored: a server-side dry run must never change anything.
    if (method !== 'GET' && query.has('dryRun')) throw badRequest('dryRun is not supported by the dev API server; use --dry-run=client');
    if (name === undefined) {
      if (method === 'GET') return query.get('watch') === 'true' || query.get('watch') === '1' ? this.watch(req, res, route, query) : this.list(req, res, route, query);
      // Writes to a namespaced collection need the namespace in the URL.
      if (type.namespaced && route.namespace === undefined) throw methodNotAllowed();
      if (method === 'POST') {
        let body = await this.body(req, type);
        enforceFieldValidation(res, type, body, query, this.defaultFieldValidation);
        if (type.kind === 'CertificateSigningRequest') {
          body = stampRequester(body, user);
          refuseMastersRequest(body as KubeObject);
        }
        admit({ verb: 'create', name: String((body as KubeObject)?.metadata?.name ?? ''), incoming: body as KubeObject });
        return sendJson(res, 201, this.resources.create(type, namespace, body));
      }
      if (method === 'DELETE') return this.deleteCollection(req, res, route, query, user);
      throw methodNotAllowed();
    }
    if (type.namespaced && route.namespace === undefined) throw methodNotAllowed();
    // A watch of one object by name (?watch=true on its own URL) is a watch narrowed to that name.
    if (method === 'GET' && !subresource && (query.get('watch') === 'true' || query.get('watch') === '1')) {
      const narrowed = new URLSearchParams(query);
      narrowed.set('fieldSelector', [query.get('fieldSelector'), `metadata.name=${name}`].filter(Boolean).join(','));
      return this.watch(req, res, { ...route, name: undefined }, narrowed);
    }
    if (subresource === 'binding') {
      if (method !== 'POST') throw methodNotAllowed();
      const binding = await this.body(req, type, 'Binding');
      admit({ verb: 'create', name, subresource, incoming: binding as KubeObject, existing: this.resources.get(type, namespace, name) });
      this.resources.bind(namespace, name, binding);
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (subresource === 'finalize') {
      if (method !== 'PUT') throw methodNotAllowed();
      const body = await this.body(req, type);
      admit({ verb: 'update', name, subresource, incoming: body as KubeObject, existing: this.existing(type, namespace, name) });
      return sendJson(res, 200, this.resources.update(type, namespace, name, body));
    }
    switch (method) {
      case 'GET': {
        const obj = this.resources.get(type, namespace, name);
        if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(type, [obj], { resourceVersion: obj.metadata.resourceVersion }, tableOptions(query)));
        return sendJson(res, 200, obj);
      }
      case 'PUT': {
        const body = await this.body(req, type);
        enforceFieldValidation(res, type, body, query, this.defaultFieldValidation);
        admit({ verb: 'update', name, subresource, incoming: body as KubeObject, existing: this.existing(type, namespace, name) });
        return sendJson(res, 200, this.resources.update(type, namespace, name, body, subresource));
      }
      case 'PATCH':
        return this.patch(req, res, route, namespace, name, user, query);
      case 'DELETE': {
        if (subresource) throw methodNotAllowed();
        const options = await this.deleteOptions(req, query);
        admit({ verb: 'delete', name, existing: this.resources.get(type, namespace, name) });
        const { object, removed } = this.resources.delete(type, namespace, name, options);
        // Pods come back as the object; other kinds as a Success Status once removed.
        if (type.kind === 'Pod' || !removed) return sendJson(res, 200, object);
        return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: type.group || undefined, kind: type.plural, uid: object.metadata.uid } });
      }
      default:
        throw methodNotAllowed();
    }
  }

  private list(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams): void {
    const { type } = route;
    const store = this.resources.store;
    const all = this.resources.list(type, route.namespace, {
      labelSelector: parseLabelSelector(query.get('labelSelector')),
      fieldSelector: parseFieldSelector(query.get('fieldSelector'), allowedFields(type)),
    });
    let rv = store.currentRv();
    let items = all;
    const token = query.get('continue');
    if (token) {
      const c = decodeContinue(token);
      if (c.rv < store.oldestWatchableRv()) {
        throw gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      rv = c.rv;
      items = all.filter((o) => keyOf(o) > c.start);
    }
    const limit = Number(query.get('limit') ?? 0);
    const listMeta: Record<string, unknown> = { resourceVersion: String(rv) };
    if (limit > 0 && items.length > limit) {
      listMeta.continue = encodeContinue(rv, keyOf(items[limit - 1]));
      listMeta.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(type, items, listMeta, tableOptions(query)));
    sendJson(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: listMeta, items });
  }

  private watch(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams): void {
    const timeout = query.get('timeoutSeconds');
    this.watches.serve(res, {
      type: route.type,
      namespace: route.namespace,
      labelSelector: parseLabelSelector(query.get('labelSelector')),
      fieldSelector: parseFieldSelector(query.get('fieldSelector'), allowedFields(route.type)),
      resourceVersion: query.get('resourceVersion') ?? '',
      allowBookmarks: query.get('allowWatchBookmarks') === 'true',
      timeoutSeconds: timeout ? Number(timeout) : undefined,
      table: wantsTable(req.headers.accept) ? tableOptions(query) : undefined,
    });
  }

  private existing(type: ResourceType, namespace: string, name: string): KubeObject | undefined {
    try {
      return this.resources.get(type, namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  private async patch(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, namespace: string, name: string, user: UserInfo, query: URLSearchParams): Promise<void> {
    const { type, subresource } = route;
    const admit = (incoming: KubeObject, existing: KubeObject | undefined) =>
      admitWrite(user, { verb: existing ? 'patch' : 'create', type, namespace, name, subresource, incoming, existing }, this.resources.store);
    const media = mediaTypeOf(req);
    const text = await readBody(req);
    if (media === 'application/apply-patch+yaml') {
      // Server-side apply, simplified: create when missing, else merge like a strategic patch.
      const applied = parseBody(text, media, describe(type)) as KubeObject;
      enforceFieldValidation(res, type, applied, query, this.defaultFieldValidation);
      const existing = this.existing(type, namespace, name);
      if (!existing) {
        const created = { ...applied, metadata: { ...(applied?.metadata ?? {}), name } };
        admit(created, undefined);
        return sendJson(res, 201, this.resources.create(type, namespace, created));
      }
      const merged = applyStrategicMergePatch(type.kind, existing, applied);
      admit(merged, existing);
      return sendJson(res, 200, this.resources.update(type, namespace, name, merged, subresource));
    }
    const patchType = patchTypeOf(media);
    if (!patchType) throw unsupportedPatchType();
    const patch = parseBody(text, 'application/json', describe(type));
    // A merge or strategic patch is a partial object of the kind; a JSON patch is a list of operations.
    if (patchType !== 'json') enforceFieldValidation(res, type, patch, query, this.defaultFieldValidation);
    const existing = this.resources.get(type, namespace, name);
    const patched = applyPatch(patchType, type.kind, existing, patch);
    // A patch that yields no object is refused below with kube's 400; nothing to admit.
    if (patched !== null && typeof patched === 'object' && !Array.isArray(patched)) admit(patched as KubeObject, existing);
    sendJson(res, 200, this.resources.patch(type, namespace, name, patchType, patch, subresource));
  }

  private async deleteCollection(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams, user: UserInfo): Promise<void> {
    const { type } = route;
    const options = await this.deleteOptions(req, query);
    const matched = this.resources.list(type, route.namespace, {
      labelSelector: parseLabelSelector(query.get('labelSelector')),
      fieldSelector: parseFieldSelector(query.get('fieldSelector'), allowedFields(type)),
    });
    const items: KubeObject[] = [];
    for (const o of matched) {
      admitWrite(user, { verb: 'delete', type, namespace: o.metadata.namespace ?? '', name: o.metadata.name, existing: o }, this.resources.store);
      try {
        items.push(this.resources.delete(type, o.metadata.namespace ?? '', o.metadata.name, options).object);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    sendJson(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(this.resources.store.currentRv()) }, items });
  }

  private async deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
    const body = await readBody(req);
    let options: DeleteOptions = {};
    if (body.toString('utf8').trim()) {
      const parsed = parseBody(body, mediaTypeOf(req), 'DeleteOptions');
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('DeleteOptions must be a JSON object');
      options = parsed as DeleteOptions;
    }
    const q = query.get('gracePeriodSeconds');
    if (q !== null) options.gracePeriodSeconds = Number(q);
    if (options.gracePeriodSeconds !== undefined && !Number.isFinite(options.gracePeriodSeconds)) throw badRequest('gracePeriodSeconds must be a number');
    return options;
  }

  private async body(req: IncomingMessage, type: ResourceType, kind = type.kind): Promise<unknown> {
    return parseBody(await readBody(req), mediaTypeOf(req), `${kind} in version "${type.version}" cannot be handled as a ${kind}`);
  }
}

function describe(type: ResourceType): string {
  return `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}`;
}

function allowedFields(type: ResourceType): string[] {
  return ['metadata.name', ...(type.namespaced ? ['metadata.namespace'] : []), ...type.fieldSelectors];
}

function tableOptions(query: URLSearchParams): TableOptions {
  const include = query.get('includeObject');
  return { includeObject: include === 'Object' || include === 'None' ? include : 'Metadata', noHeaders: false };
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (c.v === 'meta.k8s.io/v1' && Number.isSafeInteger(c.rv) && typeof c.start === 'string') return c;
  } catch {
    // fall through to the error below
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}
