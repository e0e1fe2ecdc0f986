// The API's Time (conditions, startTime, event timestamps, creationTimestamp): RFC 3339 in whole
// seconds, UTC, as metav1.Time marshals. client-node sends a Date as JavaScript prints it, with
// milliseconds ("2026-12-03T16:47:26.394Z"); kube-apiserver drops the fraction, so what the agent
// wrote and what it reads back would differ. MicroTime fields are strings already (micro-time.ts).

/** A Time as the API writes it; a string typed as the Date client-node's models expect, which their serializer passes untouched. */
export function apiTime(d: Date): Date {
  return `${d.toISOString().slice(0, 19)}Z` as unknown as Date;
}

/** A JSON copy of `obj` for the wire: every Date in it an apiTime, undefined fields gone. */
export function withApiTimes<T>(obj: T): T {
  return JSON.parse(JSON.stringify(obj, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? null : apiTime(raw);
    return value;
  })) as T;
}
