// PodLogOptions from a query (tailLines — or the older `tail`, where "all" means no limit —
// limitBytes, sinceSeconds, sinceTime), checked as kube's ValidatePodLogOptions checks them. The
// dev control plane answers the problems with 422, as kube-apiserver does; the node, which may be
// reached without it, checks again and answers 400.
import { parseRfc3339 } from './rfc3339.ts';

export interface PodLogOptionProblem {
  type: 'Invalid' | 'Forbidden';
  /** The field path; "" for a rule across fields, as kube names it. */
  field: string;
  value?: unknown;
  detail: string;
  /** Not a number at all: kube-apiserver refuses such a query before validation, with 400. */
  unparsable?: true;
}

export interface PodLogNumbers {
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  sinceTimeNs?: bigint;
  problems: PodLogOptionProblem[];
}

export function readPodLogOptions(query: URLSearchParams): PodLogNumbers {
  const problems: PodLogOptionProblem[] = [];
  const int = (field: string, raw: string | null): number | undefined => {
    if (raw === null || raw === '') return undefined;
    if (!/^[+-]?\d{1,18}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      problems.push({ type: 'Invalid', field, value: raw, detail: 'must be an integer', unparsable: true });
      return undefined;
    }
    return Number(raw);
  };
  const legacyTail = query.get('tail');
  const tailRaw = legacyTail !== null && legacyTail !== '' ? (legacyTail === 'all' ? null : legacyTail) : query.get('tailLines');
  const out: PodLogNumbers = { problems };
  const tailLines = int('tailLines', tailRaw);
  const limitBytes = int('limitBytes', query.get('limitBytes'));
  const sinceSeconds = int('sinceSeconds', query.get('sinceSeconds'));
  const sinceTimeRaw = query.get('sinceTime');
  if (sinceTimeRaw !== null && sinceTimeRaw !== '') {
    const t = parseRfc3339(sinceTimeRaw);
    if (t) out.sinceTimeNs = t.ns;
    else problems.push({ type: 'Invalid', field: 'sinceTime', value: sinceTimeRaw, detail: 'must be an RFC 3339 time, e.g. 2006-01-02T15:04:05Z', unparsable: true });
  }
  if (tailLines !== undefined) {
    if (tailLines < 0) problems.push({ type: 'Invalid', field: 'tailLines', value: tailLines, detail: 'must be greater than or equal to 0' });
    else out.tailLines = tailLines;
  }
  if (limitBytes !== undefined) {
    if (limitBytes < 1) problems.push({ type: 'Invalid', field: 'limitBytes', value: limitBytes, detail: 'must be greater than 0' });
    else out.limitBytes = limitBytes;
  }
  if (sinceSeconds !== undefined && sinceTimeRaw !== null && sinceTimeRaw !== '') {
    problems.push({ type: 'Forbidden', field: '', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (sinceSeconds !== undefined) {
    if (sinceSeconds < 1) problems.push({ type: 'Invalid', field: 'sinceSeconds', value: sinceSeconds, detail: 'must be greater than 0' });
    else out.sinceSeconds = sinceSeconds;
  }
  return out;
}

/** "field: Invalid value: -1: must be …", as kube prints a field error. */
export function describeLogOptionProblem(p: PodLogOptionProblem): string {
  const what = p.type === 'Invalid' ? `Invalid value: ${JSON.stringify(p.value)}: ${p.detail}` : `Forbidden: ${p.detail}`;
  return p.field ? `${p.field}: ${what}` : what;
}
