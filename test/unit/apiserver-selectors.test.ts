// Label and field selector parsing and matching, and kube-apiserver's errors for bad ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/apiserver/errors.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../src/apiserver/selectors.ts';

const labels = { app: 'web', tier: 'front', 'example.com/team': 'a' };

test('label selector operators', () => {
  const cases: Array<[string, boolean]> = [
    ['app=web', true], ['app==web', true], ['app!=web', false], ['app!=db', true], ['missing!=x', true],
    ['tier in (front, back)', true], ['tier notin (front)', false], ['missing notin (x)', true],
    ['app', true], ['!app', false], ['!missing', true], ['example.com/team=a,app=web', true], ['app=web,tier=back', false], ['', true],
  ];
  for (const [selector, expected] of cases) assert.equal(matchesLabels(parseLabelSelector(selector), labels), expected, selector);
});

test('malformed label selectors are 400 BadRequest', () => {
  for (const bad of ['app in (web', 'a=b=c', '=x', 'app=web,', 'bad key=x']) {
    assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof ApiError && e.code === 400 && e.reason === 'BadRequest', bad);
  }
});

test('field selectors compare fields, and unset fields as empty', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  const allowed = ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'spec.hostNetwork'];
  const match = (s: string) => matchesFields(parseFieldSelector(s, allowed), pod);
  assert.equal(match('spec.nodeName=n1'), true);
  assert.equal(match('spec.nodeName==n2'), false);
  assert.equal(match('status.phase!=Succeeded,status.phase!=Failed'), true);
  assert.equal(match('metadata.name=p,metadata.namespace=ns'), true);
  assert.equal(match('spec.hostNetwork=false'), true);
  assert.equal(matchesFields(parseFieldSelector('spec.nodeName=', allowed), { metadata: { name: 'u' } }), true);
  assert.throws(() => parseFieldSelector('spec.color=red', allowed), /field label not supported: spec.color/);
});
