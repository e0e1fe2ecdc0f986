// The verbs on resource URLs: get, list (paged, or as a Table), watch, create, update, patch,
// delete, deletecollection, and the pods/binding subresource.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, gone, methodNotAllowed, unsupportedMediaType } from './errors.ts';
import { mediaTypeOf, parseBody, readBody, sendJson } from './http-io.ts';
import { applyStrategicMergePatch } from './patch.ts';
import { patchTypeOf } from './patch.ts';
import { proxyPodLogs } from './node-proxy.ts';
import { apiVersionOf, resourceKey, resourceTypes, type ResourceType } from './registry.ts';
import type { DeleteOptions, ResourceService } from './resources.ts';
import type { ResourceRoute } from './routes.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { KubeObject } from './store.ts';
import { toTable, wantsTable, type TableOptions } from './tables.ts';
import type { WatchHub } from './watch.ts';

export class ResourceHandlers {
  constructor(private readonly resources: ResourceService, private readonly watches: WatchHub) {}

  async handle(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams): Promise<void> {
    const { type, name, subresource } = route;
    const namespace = route.namespace ?? '';
    const method = req.method ?? 'GET';
    // Refused rather than ignored: a server-side dry run must never change anything.
    if (method !== 'GET' && query.has('dryRun')) throw badRequest('dryRun is not supported by the dev API server; use --dry-run=client');
    if (name === undefined) {
      if (method === 'GET') return query.get('watch') === 'true' || query.get('watch') === '1' ? this.watch(req, res, route, query) : this.list(req, res, route, query);
      // Writes to a namespaced collection need the namespace in the URL.
      if (type.namespaced && route.namespace === undefined) throw methodNotAllowed();
      if (method === 'POST') return sendJson(res, 201, this.resources.create(type, namespace, await this.body(req, type)));
      if (method === 'DELETE') return this.deleteCollection(req, res, route, query);
      throw methodNotAllowed();
    }
    if (type.namespaced && route.namespace === undefined) throw methodNotAllowed();
    if (subresource === 'binding') {
      if (method !== 'POST') throw methodNotAllowed();
      this.resources.bind(namespace, name, await this.body(req, type, 'Binding'));
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (subresource === 'log') {
      if (method !== 'GET') throw methodNotAllowed();
      const pod = this.resources.get(type, namespace, name);
      const nodeType = resourceTypes.find((t) => t.plural === 'nodes')!;
      const node = pod.spec?.nodeName ? this.resources.store.get(resourceKey(nodeType), '', pod.spec.nodeName) : undefined;
      return proxyPodLogs(res, pod, node, query);
    }
    if (subresource === 'finalize') {
      if (method !== 'PUT') throw methodNotAllowed();
      return sendJson(res, 200, this.resources.update(type, namespace, name, await this.body(req, type)));
    }
    switch (method) {
      case 'GET': {
        const obj = this.resources.get(type, namespace, name);
        if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(type, [obj], { resourceVersion: obj.metadata.resourceVersion }, tableOptions(query)));
        return sendJson(res, 200, obj);
      }
      case 'PUT':
        return sendJson(res, 200, this.resources.update(type, namespace, name, await this.body(req, type), subresource));
      case 'PATCH':
        return this.patch(req, res, route, namespace, name);
      case 'DELETE': {
        if (subresource) throw methodNotAllowed();
        const options = await this.deleteOptions(req, query);
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

  private async patch(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, namespace: string, name: string): Promise<void> {
    const { type, subresource } = route;
    const media = mediaTypeOf(req);
    const text = await readBody(req);
    if (media === 'application/apply-patch+yaml') {
      // Server-side apply, simplified: create when missing, else merge like a strategic patch.
      const applied = parseBody(text, media, describe(type)) as KubeObject;
      let existing: KubeObject | undefined;
      try {
        existing = this.resources.get(type, namespace, name);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
      if (!existing) return sendJson(res, 201, this.resources.create(type, namespace, { ...applied, metadata: { ...(applied?.metadata ?? {}), name } }));
      const merged = applyStrategicMergePatch(type.kind, existing, applied);
      return sendJson(res, 200, this.resources.update(type, namespace, name, merged, subresource));
    }
    const patchType = patchTypeOf(media);
    if (!patchType) throw unsupportedMediaType(media);
    const patch = parseBody(text, 'application/json', describe(type));
    sendJson(res, 200, this.resources.patch(type, namespace, name, patchType, patch, subresource));
  }

  private async deleteCollection(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams): Promise<void> {
    const { type } = route;
    const options = await this.deleteOptions(req, query);
    const matched = this.resources.list(type, route.namespace, {
      labelSelector: parseLabelSelector(query.get('labelSelector')),
      fieldSelector: parseFieldSelector(query.get('fieldSelector'), allowedFields(type)),
    });
    const items: KubeObject[] = [];
    for (const o of matched) {
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
