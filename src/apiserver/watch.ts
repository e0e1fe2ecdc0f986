// Watch streams: newline-delimited JSON events (ADDED / MODIFIED / DELETED / BOOKMARK / ERROR)
// for one resource, filtered by namespace and selectors. An object that starts or stops
// matching the selectors arrives as ADDED or DELETED, as the watch cache does. A start
// version older than the kept history gets an ERROR event carrying a 410 Expired Status.
import type { ServerResponse } from 'node:http';
import { badRequest, gone } from './errors.ts';
import { apiVersionOf, resourceKey, type ResourceType } from './registry.ts';
import { matchesFields, matchesLabels, type FieldRequirement, type LabelSelector } from './selectors.ts';
import type { KubeObject, ObjectStore, StoreEvent } from './store.ts';
import { toTable, type TableOptions } from './tables.ts';

export interface WatchRequest {
  type: ResourceType;
  namespace?: string;
  labelSelector: LabelSelector;
  fieldSelector: FieldRequirement[];
  resourceVersion: string;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  table?: TableOptions;
}

export class WatchHub {
  private readonly open = new Set<() => void>();

  constructor(private readonly store: ObjectStore, private readonly bookmarkIntervalMs: number) {}

  serve(res: ServerResponse, w: WatchRequest): void {
    const key = resourceKey(w.type);
    const inScope = (o: KubeObject) => w.namespace === undefined || (o.metadata.namespace ?? '') === w.namespace;
    const matches = (o: KubeObject | undefined) =>
      !!o && inScope(o) && matchesLabels(w.labelSelector, o.metadata.labels) && matchesFields(w.fieldSelector, o);

    let start: number | undefined;
    if (w.resourceVersion !== '' && w.resourceVersion !== '0') {
      start = Number(w.resourceVersion);
      if (!Number.isSafeInteger(start) || start < 0) throw badRequest(`invalid resource version: ${w.resourceVersion}`);
    }

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    let headersSent = false;
    const send = (type: string, object: unknown) => {
      if (res.writableEnded || res.destroyed) return;
      let payload = object;
      if (w.table && type !== 'ERROR' && type !== 'BOOKMARK') {
        // Column definitions go with the first event only, as kube-apiserver sends them.
        payload = toTable(w.type, [object as KubeObject], {}, { ...w.table, noHeaders: headersSent });
        headersSent = true;
      }
      res.write(`${JSON.stringify({ type, object: payload })}\n`);
    };

    const deliver = (e: StoreEvent) => {
      if (e.resource !== key) return;
      const now = matches(e.object);
      const before = e.type === 'MODIFIED' ? matches(e.previous) : false;
      if (e.type === 'ADDED' && now) send('ADDED', e.object);
      else if (e.type === 'DELETED' && (now || matches(e.previous))) send('DELETED', e.object);
      else if (e.type === 'MODIFIED') {
        if (now && before) send('MODIFIED', e.object);
        else if (now) send('ADDED', e.object);
        else if (before) send('DELETED', e.object);
      }
    };

    if (start === undefined) {
      // No version: the current state as synthetic ADDED events, then changes.
      for (const o of this.store.list(key, w.type.namespaced ? w.namespace : undefined)) if (matches(o)) send('ADDED', o);
    } else {
      const changes = this.store.changesSince(start);
      if (changes === 'expired') {
        const status = gone(`too old resource version: ${start} (${this.store.oldestWatchableRv()})`).toStatus();
        send('ERROR', status);
        res.end();
        return;
      }
      for (const e of changes) deliver(e);
    }

    const unsubscribe = this.store.subscribe(deliver);
    const timers: NodeJS.Timeout[] = [];
    if (w.allowBookmarks) {
      timers.push(setInterval(() => {
        send('BOOKMARK', { kind: w.type.kind, apiVersion: apiVersionOf(w.type), metadata: { resourceVersion: String(this.store.currentRv()) } });
      }, this.bookmarkIntervalMs));
    }
    const finish = () => {
      if (!this.open.delete(finish)) return;
      unsubscribe();
      for (const t of timers) clearInterval(t);
      if (!res.writableEnded) res.end();
    };
    if (w.timeoutSeconds !== undefined) timers.push(setTimeout(finish, w.timeoutSeconds * 1000));
    this.open.add(finish);
    res.on('close', finish);
    res.on('error', finish);
  }

  /** Ends every open watch (server shutdown). */
  closeAll(): void {
    for (const finish of [...this.open]) finish();
  }
}
