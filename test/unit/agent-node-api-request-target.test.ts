// Request targets are parsed without trusting them: nothing throws, bad ones say why, and an
// encoded slash stays inside its path segment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestTarget } from '../../src/agent/server/request-target.ts';
import { containerLogDir } from '../../src/agent/server/cri-log.ts';

const good: Array<[string, string[], string, string]> = [
  ['/pods', ['pods'], '/pods', ''],
  ['/pods/', ['pods', ''], '/pods/', ''],
  ['/containerLogs/ns/p/c?tailLines=5&previous=true', ['containerLogs', 'ns', 'p', 'c'], '/containerLogs/ns/p/c', 'tailLines=5&previous=true'],
  ['/containerLogs/ns/p/..%2F..%2Fx', ['containerLogs', 'ns', 'p', '../../x'], '/containerLogs/ns/p/../../x', ''],
  ['http://node:10250/healthz?x=%zz', ['healthz'], '/healthz', 'x=%zz'],
];
for (const [target, segments, path, query] of good) {
  test(`parses ${target}`, () => {
    const parsed = parseRequestTarget(target);
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.target.segments, segments);
    assert.equal(parsed.target.path, path);
    assert.equal(parsed.target.query.toString().length >= 0, true);
    assert.equal(new URLSearchParams(query).toString(), parsed.target.query.toString());
  });
}

const bad: Array<[string | undefined, RegExp]> = [
  ['/containerLogs/ns/pod/%E0%A4%A', /malformed percent-encoding/],
  ['http://[::1', /neither a path nor an absolute URL/],
  ['//', /must not start with \/\//],
  ['//evil.example/pods', /must not start with \/\//],
  ['*', /neither a path/],
  ['ftp://x/pods', /unsupported scheme/],
  ['/a%00b', /control characters/],
  ['', /empty/],
  [undefined, /empty/],
];
for (const [target, problem] of bad) {
  test(`refuses ${JSON.stringify(target)} with a reason`, () => {
    const parsed = parseRequestTarget(target);
    assert.equal(parsed.ok, false);
    assert.match(!parsed.ok ? parsed.problem : '', problem);
  });
}

test('a container log directory never leaves the pod\'s own directory', () => {
  assert.equal(containerLogDir('/logs', 'ns', 'p', 'u', 'c'), '/logs/ns_p_u/c');
  for (const [ns, pod, uid, c] of [['ns', 'p', 'u', '..'], ['ns', 'p', 'u', '../x'], ['ns', 'p', 'u/../..', 'c'], ['ns', 'p', 'u', '.'], ['ns', 'p', 'u', ''], ['ns', 'p', 'u', 'a\0b']]) {
    assert.equal(containerLogDir('/logs', ns, pod, uid, c), undefined, `${ns}_${pod}_${uid}/${c}`);
  }
});
