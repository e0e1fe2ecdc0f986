// Times as kube-apiserver decodes them, with the fields found from client-node's generated models:
// a MicroTime needs exactly six fraction digits (the Lease renewTime a JavaScript Date prints with
// three was refused by a real API server), a Time is RFC 3339; nested and listed fields count too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeFormatProblem } from '../../src/apiserver/wire-times.ts';
import { microTime } from '../../src/agent/api/micro-time.ts';
import { buildLease } from '../../src/agent/node/node-lease.ts';

const lease = (renewTime: unknown) => ({ metadata: { name: 'n' }, spec: { holderIdentity: 'n', renewTime } });

const rows: Array<{ name: string; kind: string; obj: Record<string, unknown>; want: string | undefined }> = [
  { name: 'a MicroTime with six digits', kind: 'Lease', obj: lease('2026-12-03T15:00:00.394000Z'), want: undefined },
  { name: 'a MicroTime with three digits (a JavaScript Date)', kind: 'Lease', obj: lease('2026-12-03T15:00:00.394Z'),
    want: 'parsing time "2026-12-03T15:00:00.394Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".394Z" as ".000000"' },
  { name: 'a MicroTime without a fraction', kind: 'Lease', obj: lease('2026-12-03T15:00:00Z'),
    want: 'parsing time "2026-12-03T15:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"' },
  { name: 'not a time at all', kind: 'Lease', obj: lease('yesterday'),
    want: 'parsing time "yesterday" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "yesterday" as "2006"' },
  { name: 'an Event eventTime is a MicroTime too', kind: 'Event', obj: { metadata: { name: 'e' }, eventTime: '2026-12-03T15:00:00.1Z' },
    want: 'parsing time "2026-12-03T15:00:00.1Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".1Z" as ".000000"' },
  { name: 'a Time may carry a fraction (Go reads it)', kind: 'Pod', obj: { metadata: { name: 'p' }, status: { startTime: '2026-12-03T15:00:00.394Z' } }, want: undefined },
  { name: 'a Time deep in a list', kind: 'Pod', obj: { metadata: { name: 'p' }, status: { containerStatuses: [{ name: 'a', state: { running: { startedAt: 'soon' } } }] } },
    want: 'parsing time "soon" as "2006-01-02T15:04:05Z07:00": cannot parse "soon" as "2006"' },
  { name: 'a number where a time goes', kind: 'Lease', obj: lease(12), want: 'json: cannot unmarshal number into Go struct field spec.renewTime of type string' },
  { name: 'a kind without a model is let be', kind: 'Nothing', obj: { x: 'y' }, want: undefined },
];
for (const row of rows) test(`wire times: ${row.name}`, () => assert.equal(timeFormatProblem(row.kind, 'v1', row.obj), row.want));

test('the agent\'s Lease carries its renewTime as a MicroTime (it had three digits)', () => {
  const now = new Date('2026-12-03T15:00:00.394Z');
  assert.equal(String(microTime(now)), '2026-12-03T15:00:00.394000Z');
  const body = JSON.parse(JSON.stringify(buildLease({ metadata: { name: 'n', uid: 'u' } }, 40, now)));
  assert.equal(body.spec.renewTime, '2026-12-03T15:00:00.394000Z');
  assert.equal(timeFormatProblem('Lease', 'v1', body), undefined);
});
