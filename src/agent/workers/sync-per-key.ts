// The pod workers' scheduling rule as one rxjs operator:
//  - per key (pod UID) one job at a time;
//  - requests that arrive while a key's job runs collapse into one, the newest;
//  - at most `maxParallel` jobs run at once across keys, the rest wait in arrival order.
// Emits each job's result; a job that throws emits nothing and the key goes on.
import { Observable, type OperatorFunction } from 'rxjs';

export function syncPerKey<T, R>(keyOf: (req: T) => string, job: (req: T) => Promise<R>, maxParallel: number, onError?: (err: unknown, req: T) => void): OperatorFunction<T, R> {
  return (source) => new Observable<R>((subscriber) => {
    const running = new Set<string>();
    /** Newest request per key not yet started. */
    const pending = new Map<string, T>();
    /** Keys with a pending request and nothing running, waiting for a free slot, oldest first. */
    const ready: string[] = [];
    let sourceDone = false;

    const maybeComplete = () => {
      if (sourceDone && running.size === 0 && pending.size === 0) subscriber.complete();
    };

    const startNext = () => {
      while (running.size < maxParallel && ready.length) {
        const key = ready.shift()!;
        const req = pending.get(key);
        if (req === undefined) continue;
        pending.delete(key);
        running.add(key);
        job(req).then(
          (result) => subscriber.next(result),
          (err) => onError?.(err, req),
        ).finally(() => {
          running.delete(key);
          if (pending.has(key)) ready.push(key);
          startNext();
          maybeComplete();
        });
      }
    };

    const sub = source.subscribe({
      next(req) {
        const key = keyOf(req);
        const queued = pending.has(key);
        pending.set(key, req);
        if (!queued && !running.has(key)) ready.push(key);
        startNext();
      },
      error(err) {
        subscriber.error(err);
      },
      complete() {
        sourceDone = true;
        maybeComplete();
      },
    });
    return () => sub.unsubscribe();
  });
}
