import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripCriLog, tail } from '../../src/agent/server/cri-log.ts';

test('CRI log prefixes are stripped and partial lines joined', () => {
  const log = [
    '2026-01-01T00:00:00.000000001Z stdout F hello',
    '2026-01-01T00:00:00.000000002Z stderr P par',
    '2026-01-01T00:00:00.000000003Z stderr F tial',
    '2026-01-01T00:00:00.000000004Z stdout F ',
    '',
  ].join('\n');
  assert.equal(stripCriLog(log), 'hello\npartial\n\n');
});

test('tail keeps the last lines', () => {
  assert.equal(tail('a\nb\nc\n', 2), 'b\nc\n');
  assert.equal(tail('a\nb\nc\n', undefined), 'a\nb\nc\n');
  assert.equal(tail('a\nb\n', 0), '');
});
