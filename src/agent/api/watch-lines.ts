// A watch response is newline-delimited JSON, one {type, object} event a line; the stream's
// chunks split lines anywhere, so a partial line waits for the rest of it.

export type WatchLineHandler = (type: string, object: unknown) => void;

export interface WatchLineParser {
  /** Feeds a chunk of the response text. */
  push(chunk: string): void;
  /** The stream ended: a last line without its newline still counts. */
  end(): void;
}

export function watchLineParser(onEvent: WatchLineHandler): WatchLineParser {
  let pending = '';
  const line = (text: string) => {
    if (!text.trim()) return;
    let event: { type?: unknown; object?: unknown };
    try {
      event = JSON.parse(text) as typeof event;
    } catch {
      return; // as client-node's Watch: a line that is not JSON is skipped
    }
    if (typeof event?.type !== 'string') return;
    try {
      onEvent(event.type, event.object);
    } catch {
      // the handler's own failure must not end the stream (client-node's Watch dropped these too)
    }
  };
  return {
    push(chunk) {
      pending += chunk;
      let at: number;
      while ((at = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, at);
        pending = pending.slice(at + 1);
        line(text);
      }
    },
    end() {
      const rest = pending;
      pending = '';
      line(rest);
    },
  };
}
