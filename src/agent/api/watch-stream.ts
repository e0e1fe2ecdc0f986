// A watch (GET ...?watch=true) read line by line, in the shape of client-node's Watch.watch:
// events go to `onEvent`; `done` is called once, with nothing when the server closed the stream
// or it went quiet for 30 s (client-node's inactivity limit, kept so a dead connection is
// noticed), with an error carrying `statusCode` when the server refused the watch, with the
// error otherwise. Stopping it (the returned abort) ends it without calling `done`.
import { STATUS_CODES } from 'node:http';
import type { Query } from './api-connection.ts';
import type { RestClient } from './rest-client.ts';
import { watchLineParser } from './watch-lines.ts';

export type WatchCallback = (type: string, obj: any) => void;

export interface Watcher {
  watch(path: string, query: Query, onEvent: WatchCallback, done: (err?: unknown) => void): Promise<{ abort(): void }>;
}

export const watchInactivityMs = 30_000;

export function createWatcher(client: Pick<RestClient, 'open'>, inactivityMs = watchInactivityMs): Watcher {
  return {
    async watch(path, query, onEvent, done) {
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      let destroy: (() => void) | undefined;
      const finish = (err?: unknown) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        destroy?.();
        done(err);
      };
      const quietFor = () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(), inactivityMs);
        timer.unref();
      };
      const stopper = {
        abort() {
          finished = true;
          clearTimeout(timer);
          destroy?.();
        },
      };
      quietFor();
      try {
        const { request, response } = await client.open(path, { watch: true, ...query });
        destroy = () => request.destroy();
        if (finished) {
          destroy();
          return stopper;
        }
        if (response.statusCode !== 200) {
          response.resume();
          const code = response.statusCode ?? 0;
          throw Object.assign(new Error(response.statusMessage || STATUS_CODES[code] || 'Internal Server Error'), { statusCode: code });
        }
        quietFor();
        const lines = watchLineParser((type, obj) => {
          if (!finished) onEvent(type, obj);
        });
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          quietFor();
          lines.push(chunk);
        });
        response.on('end', () => {
          lines.end();
          finish();
        });
        response.on('error', (err) => finish(err));
        response.on('close', () => finish());
      } catch (err) {
        finish(err);
      }
      return stopper;
    },
  };
}
