// What `kubectl logs` asks (PodLogOptions in the query), checked as the kubelet checks it.
import { parseRfc3339 } from './cri-line.ts';

/** PodLogOptions as the kubelet reads them, once validated. */
export interface LogOptions {
  follow: boolean;
  timestamps: boolean;
  /** Lines from the end of the file; undefined: all of it. */
  tailLines?: number;
  /** Output bytes at most; undefined: no limit. */
  limitBytes?: number;
  /** Entries older than this (ns since the epoch) are skipped. */
  sinceNs?: bigint;
}

export type ParsedLogQuery = { ok: true; options: LogOptions; previous: boolean } | { ok: false; message: string };

/** Query booleans as Kubernetes converts them: absent, empty, "0" and "false" are false, anything else true. */
function queryBool(v: string | null): boolean {
  return !(v === null || v === '' || v === '0' || v.toLowerCase() === 'false');
}

/**
 * The containerLogs query (follow, previous, timestamps, tailLines — or the older `tail`, where
 * "all" means no limit — limitBytes, sinceSeconds, sinceTime), checked as ValidatePodLogOptions
 * checks them. `nowMs` anchors sinceSeconds.
 */
export function parseLogQuery(query: URLSearchParams, nowMs: number): ParsedLogQuery {
  const problems: string[] = [];
  const int = (name: string, raw: string | null): number | undefined => {
    if (raw === null || raw === '') return undefined;
    if (!/^[+-]?\d{1,18}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      problems.push(`${name}: Invalid value: ${JSON.stringify(raw)}: must be an integer`);
      return undefined;
    }
    return Number(raw);
  };
  const legacyTail = query.get('tail');
  const tailRaw = legacyTail !== null && legacyTail !== '' ? (legacyTail === 'all' ? null : legacyTail) : query.get('tailLines');
  const tailLines = int('tailLines', tailRaw);
  const limitBytes = int('limitBytes', query.get('limitBytes'));
  const sinceSeconds = int('sinceSeconds', query.get('sinceSeconds'));
  const sinceTimeRaw = query.get('sinceTime');
  let sinceTime: bigint | undefined;
  if (sinceTimeRaw !== null && sinceTimeRaw !== '') {
    const t = parseRfc3339(sinceTimeRaw);
    if (t) sinceTime = t.ns;
    else problems.push(`sinceTime: Invalid value: ${JSON.stringify(sinceTimeRaw)}: must be an RFC 3339 time, e.g. 2006-01-02T15:04:05Z`);
  }
  if (tailLines !== undefined && tailLines < 0) problems.push(`tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0`);
  if (limitBytes !== undefined && limitBytes < 1) problems.push(`limitBytes: Invalid value: ${limitBytes}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceSeconds < 1) problems.push(`sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0`);
  if (query.has('sinceSeconds') && query.get('sinceSeconds') !== '' && sinceTimeRaw !== null && sinceTimeRaw !== '') {
    problems.push('at most one of `sinceTime` or `sinceSeconds` may be specified');
  }
  if (problems.length) return { ok: false, message: `invalid log options: ${problems.join(', ')}` };
  const options: LogOptions = { follow: queryBool(query.get('follow')), timestamps: queryBool(query.get('timestamps')) };
  if (tailLines !== undefined) options.tailLines = tailLines;
  if (limitBytes !== undefined) options.limitBytes = limitBytes;
  if (sinceSeconds !== undefined) options.sinceNs = (BigInt(nowMs) - BigInt(sinceSeconds) * 1000n) * 1_000_000n;
  if (sinceTime !== undefined) options.sinceNs = sinceTime;
  return { ok: true, options, previous: queryBool(query.get('previous')) };
}
