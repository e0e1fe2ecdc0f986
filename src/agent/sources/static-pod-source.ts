// Static pods from --pod-manifest-path: scanned at start, on every change fs.watch reports,
// and every rescan interval (fs.watch misses some changes, e.g. on network filesystems).
// Emits ADD for new uids and DELETE for uids whose file changed or went away.
import { watch as watchFs, type FSWatcher } from 'node:fs';
import { Observable } from 'rxjs';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { podUid, type PodUpdate } from './pod-update.ts';
import { readStaticPodFiles } from './static-pod-files.ts';

export function staticPodSource(path: string, nodeName: string, rescanMs: number, logger: Logger): Observable<PodUpdate> {
  return new Observable<PodUpdate>((subscriber) => {
    const current = new Map<string, V1Pod>();
    const reportedErrors = new Map<string, string>();
    let debounce: NodeJS.Timeout | undefined;

    const scan = () => {
      const files = readStaticPodFiles(path, nodeName);
      const seen = new Set<string>();
      for (const f of files) {
        if (f.error) {
          if (reportedErrors.get(f.path) !== f.error) logger.warn({ file: f.path, error: f.error }, 'static pod manifest skipped');
          reportedErrors.set(f.path, f.error);
          continue;
        }
        reportedErrors.delete(f.path);
        const uid = podUid(f.pod!);
        seen.add(uid);
        if (!current.has(uid)) {
          current.set(uid, f.pod!);
          subscriber.next({ op: 'ADD', source: 'file', pod: f.pod! });
        }
      }
      for (const [uid, pod] of current) {
        if (!seen.has(uid)) {
          current.delete(uid);
          subscriber.next({ op: 'DELETE', source: 'file', pod });
        }
      }
    };

    scan();
    let watcher: FSWatcher | undefined;
    try {
      watcher = watchFs(path, () => {
        // Editors write in several steps: wait for the burst to settle.
        clearTimeout(debounce);
        debounce = setTimeout(scan, 100);
      });
      watcher.on('error', () => {});
    } catch {
      // The path may not exist yet; the periodic rescan picks it up.
    }
    const rescan = setInterval(scan, rescanMs);
    return () => {
      clearInterval(rescan);
      clearTimeout(debounce);
      watcher?.close();
    };
  });
}
