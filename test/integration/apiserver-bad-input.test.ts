// Bad requests get the Status kube-apiserver would answer, and the server keeps serving.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { apiFetch } from '../helpers/api-client.ts';

let server: RunningApiServer;

async function call(method: string, path: string, body?: string, contentType = 'application/json') {
  const res = await apiFetch(server, path, {
    method, body, headers: body !== undefined ? { 'Content-Type': contentType } : {}, signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}

function assertStatus(r: { status: number; body: any }, code: number, reason: string, message?: RegExp) {
  assert.equal(r.status, code, JSON.stringify(r.body));
  assert.equal(r.body.kind, 'Status');
  assert.equal(r.body.apiVersion, 'v1');
  assert.equal(r.body.status, 'Failure');
  assert.equal(r.body.code, code);
  assert.equal(r.body.reason, reason);
  if (message) assert.match(r.body.message, message);
}

const pod = (name: string | undefined, extra: Record<string, unknown> = {}) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { ...(name ? { name } : {}), ...extra }, spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

describe('dev API server answers bad input like kube-apiserver', { timeout: 60_000 }, () => {
  before(async () => {
    server = await startApiServer({ port: 0, logger: pino({ level: 'silent' }) });
  });
  after(() => server?.stop());
  afterEach(async () => {
    const res = await apiFetch(server, '/healthz', { signal: AbortSignal.timeout(5_000) });
    assert.equal(await res.text(), 'ok');
  });

  test('malformed JSON is 400 BadRequest', async () => {
    assertStatus(await call('POST', '/api/v1/namespaces/default/pods', '{"kind": "Pod", '), 400, 'BadRequest', /json parse error/);
    assertStatus(await call('POST', '/api/v1/namespaces/default/pods', '[1, 2]'), 400, 'BadRequest');
    assertStatus(await call('POST', '/api/v1/namespaces/default/pods', 'null'), 400, 'BadRequest');
  });

  test('malformed YAML is 400 BadRequest, well-formed YAML is accepted', async () => {
    assertStatus(await call('POST', '/api/v1/namespaces/default/pods', 'metadata: {name: [unclosed\n', 'application/yaml'), 400, 'BadRequest', /YAML/);
    const ok = await call('POST', '/api/v1/namespaces/default/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: b\n', 'application/yaml');
    assert.equal(ok.status, 201);
    assert.equal(ok.body.data.a, 'b');
  });

  test('unknown resources and groups are 404 NotFound', async () => {
    assertStatus(await call('GET', '/api/v1/namespaces/default/widgets'), 404, 'NotFound', /the server could not find the requested resource/);
    assertStatus(await call('GET', '/apis/widgets.example.com/v1/things'), 404, 'NotFound');
    assertStatus(await call('POST', '/api/v1/namespaces/default/widgets', '{}'), 404, 'NotFound');
    assertStatus(await call('GET', '/api/v1/namespaces/default/pods/x/unknownsub'), 404, 'NotFound');
  });

  test('a missing name is 422 Invalid on metadata.name', async () => {
    const r = await call('POST', '/api/v1/namespaces/default/pods', pod(undefined));
    assertStatus(r, 422, 'Invalid', /metadata.name: Required value: name or generateName is required/);
    assert.deepEqual(r.body.details.causes.map((c: any) => c.field), ['metadata.name']);
    assert.equal(r.body.details.kind, 'Pod');
  });

  test('a pod without containers or with a bad name is 422 Invalid', async () => {
    const noContainers = await call('POST', '/api/v1/namespaces/default/pods', JSON.stringify({ metadata: { name: 'empty' }, spec: {} }));
    assertStatus(noContainers, 422, 'Invalid', /spec.containers: Required value/);
    const badName = await call('POST', '/api/v1/namespaces/default/pods', pod('Bad_Name'));
    assertStatus(badName, 422, 'Invalid', /metadata.name: Invalid value: "Bad_Name"/);
  });

  test('a namespace in the body that differs from the URL is 400 BadRequest', async () => {
    assertStatus(await call('POST', '/api/v1/namespaces/default/pods', pod('p1', { namespace: 'kube-system' })), 400, 'BadRequest',
      /the namespace of the provided object does not match the namespace sent on the request/);
  });

  test('a server-side dry run is refused, and changes nothing', async () => {
    assertStatus(await call('POST', '/api/v1/namespaces/default/pods?dryRun=All', pod('dry')), 400, 'BadRequest', /dryRun is not supported/);
    assertStatus(await call('GET', '/api/v1/namespaces/default/pods/dry'), 404, 'NotFound');
  });

  test('a pod update may change images but no other spec field (422 Invalid)', async () => {
    assert.equal((await call('POST', '/api/v1/namespaces/default/pods', pod('immutable'))).status, 201);
    const image = await call('PATCH', '/api/v1/namespaces/default/pods/immutable', '{"spec":{"containers":[{"name":"c","image":"busybox:2"}]}}', 'application/strategic-merge-patch+json');
    assert.equal(image.status, 200);
    assert.equal(image.body.spec.containers[0].image, 'busybox:2');
    assertStatus(await call('PATCH', '/api/v1/namespaces/default/pods/immutable', '{"spec":{"restartPolicy":"Never"}}', 'application/merge-patch+json'),
      422, 'Invalid', /spec: Forbidden: pod updates may not change fields other than/);
    assertStatus(await call('PATCH', '/api/v1/namespaces/default/pods/immutable', '{"spec":{"nodeName":"elsewhere"}}', 'application/merge-patch+json'), 422, 'Invalid');
  });

  test('a body of another kind is 400 BadRequest', async () => {
    assertStatus(await call('POST', '/api/v1/namespaces/default/pods', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })), 400, 'BadRequest');
  });

  test('creating into a missing namespace is 404 NotFound', async () => {
    assertStatus(await call('POST', '/api/v1/namespaces/nowhere/pods', pod('p1')), 404, 'NotFound', /namespaces "nowhere" not found/);
  });

  test('a duplicate create is 409 AlreadyExists', async () => {
    assert.equal((await call('POST', '/api/v1/namespaces/default/pods', pod('dup'))).status, 201);
    const r = await call('POST', '/api/v1/namespaces/default/pods', pod('dup'));
    assertStatus(r, 409, 'AlreadyExists', /^pods "dup" already exists$/);
    assert.equal(r.body.details.name, 'dup');
  });

  test('an update with a stale resourceVersion is 409 Conflict', async () => {
    const created = (await call('POST', '/api/v1/namespaces/default/configmaps', JSON.stringify({ metadata: { name: 'cfg' }, data: { v: '1' } }))).body;
    const first = await call('PUT', '/api/v1/namespaces/default/configmaps/cfg', JSON.stringify({ ...created, data: { v: '2' } }));
    assert.equal(first.status, 200);
    assert.notEqual(first.body.metadata.resourceVersion, created.metadata.resourceVersion);
    assertStatus(await call('PUT', '/api/v1/namespaces/default/configmaps/cfg', JSON.stringify({ ...created, data: { v: '3' } })), 409, 'Conflict',
      /Operation cannot be fulfilled on configmaps "cfg": the object has been modified/);
    const patchWithStaleRv = JSON.stringify({ metadata: { resourceVersion: created.metadata.resourceVersion }, data: { v: '4' } });
    assertStatus(await call('PATCH', '/api/v1/namespaces/default/configmaps/cfg', patchWithStaleRv, 'application/merge-patch+json'), 409, 'Conflict');
  });

  test('get, update and delete of a missing object are 404 NotFound', async () => {
    assertStatus(await call('GET', '/api/v1/namespaces/default/pods/nope'), 404, 'NotFound', /^pods "nope" not found$/);
    assertStatus(await call('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/nope'), 404, 'NotFound', /^leases.coordination.k8s.io "nope" not found$/);
    assertStatus(await call('PUT', '/api/v1/namespaces/default/pods/nope', pod('nope')), 404, 'NotFound');
    assertStatus(await call('DELETE', '/api/v1/namespaces/default/pods/nope'), 404, 'NotFound');
    assertStatus(await call('PATCH', '/api/v1/namespaces/default/pods/nope', '{}', 'application/merge-patch+json'), 404, 'NotFound');
  });

  test('bad selectors are 400 BadRequest', async () => {
    assertStatus(await call('GET', '/api/v1/pods?labelSelector=a%20in%20(b'), 400, 'BadRequest');
    assertStatus(await call('GET', '/api/v1/pods?fieldSelector=spec.color%3Dred'), 400, 'BadRequest', /field label not supported: spec.color/);
  });

  test('unsupported patch types are 415, malformed patches 400', async () => {
    assertStatus(await call('PATCH', '/api/v1/namespaces/default/pods/dup', '{}', 'text/plain'), 415, 'UnsupportedMediaType');
    assertStatus(await call('PATCH', '/api/v1/namespaces/default/pods/dup', '{"metadata":', 'application/strategic-merge-patch+json'), 400, 'BadRequest');
    assertStatus(await call('PATCH', '/api/v1/namespaces/default/pods/dup', '{"op":"add"}', 'application/json-patch+json'), 400, 'BadRequest');
  });

  test('a PATCH in no patch type is 415 naming the four kube-apiserver takes, before the object is looked up', async () => {
    const accepted = 'the body of the request was in an unknown format - accepted media types include: '
      + 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml';
    for (const [path, type] of [
      ['/api/v1/namespaces/default/pods/dup', 'application/json'],
      ['/api/v1/namespaces/default/pods/dup/status', 'text/plain'],
      ['/api/v1/nodes/no-such-node/status', 'application/json'],
      ['/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/none', 'application/x-www-form-urlencoded'],
    ]) {
      const r = await call('PATCH', path!, '{}', type);
      assertStatus(r, 415, 'UnsupportedMediaType');
      assert.equal(r.body.message, accepted, `${type} at ${path}`);
    }
  });

  test('a list with a malformed continue token is 400, with an expired one 410 Expired', async () => {
    assertStatus(await call('GET', '/api/v1/namespaces/default/pods?limit=1&continue=garbage'), 400, 'BadRequest');
    const small = await startApiServer({ port: 0, historySize: 2, logger: pino({ level: 'silent' }) });
    try {
      const post = (name: string) => apiFetch(small, '/api/v1/namespaces/default/configmaps', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ metadata: { name } }),
      });
      for (const name of ['a', 'b', 'c']) assert.equal((await post(name)).status, 201);
      const page = await (await apiFetch(small, '/api/v1/namespaces/default/configmaps?limit=1')).json() as any;
      assert.ok(page.metadata.continue);
      for (const name of ['d', 'e', 'f']) assert.equal((await post(name)).status, 201);
      const res = await apiFetch(small, `/api/v1/namespaces/default/configmaps?limit=1&continue=${page.metadata.continue}`);
      assert.equal(res.status, 410);
      const status = await res.json() as any;
      assert.equal(status.reason, 'Expired');
    } finally {
      await small.stop();
    }
  });
});

describe('no request shape crashes the dev API server', { timeout: 120_000 }, () => {
  let fuzzServer: RunningApiServer;
  before(async () => {
    fuzzServer = await startApiServer({ port: 0, logger: pino({ level: 'silent' }) });
  });
  after(() => fuzzServer?.stop());

  test('odd bodies on every resource get 2xx or 4xx answers, never 5xx', async () => {
    const collections = ['/api/v1/namespaces', '/api/v1/nodes', '/api/v1/namespaces/default/pods', '/api/v1/namespaces/default/configmaps',
      '/api/v1/namespaces/default/secrets', '/api/v1/namespaces/default/events', '/apis/coordination.k8s.io/v1/namespaces/default/leases',
      '/apis/node.k8s.io/v1/runtimeclasses', '/apis/events.k8s.io/v1/namespaces/default/events', '/api/v1/namespaces/default/serviceaccounts'];
    const bodies = ['', '{', '[]', '"text"', '42', '{"metadata": 5}', '{"metadata": {"name": 7}}', '{"metadata": {"name": "x", "labels": "l"}}',
      '{"metadata": {"name": "x"}, "spec": "s"}', '{"metadata": {"name": "x"}, "spec": {"containers": "c"}}', '{"metadata": {"name": "x"}, "data": [1]}',
      '{"metadata": {"name": "x"}, "spec": {"containers": [null]}}', '{"metadata": {"name": "x", "finalizers": "f"}}'];
    const patchTypes = ['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json'];
    // One valid object per collection, so item paths exist for updates and patches.
    const names: Record<string, string> = {};
    for (const c of collections) {
      const valid = c.endsWith('/pods') ? { metadata: { name: 'ok' }, spec: { containers: [{ name: 'c', image: 'i' }] } }
        : c.endsWith('runtimeclasses') ? { metadata: { name: 'ok' }, handler: 'runc' } : { metadata: { name: c.endsWith('namespaces') ? 'okns' : 'ok' } };
      const res = await apiFetch(fuzzServer, c, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(valid) });
      assert.equal(res.status, 201, `${c}: ${await res.text()}`);
      names[c] = valid.metadata.name;
    }
    const failures: string[] = [];
    const attempt = async (method: string, path: string, body: string, contentType: string) => {
      const res = await apiFetch(fuzzServer, path, { method, headers: { 'Content-Type': contentType }, body, signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (res.status >= 500) failures.push(`${method} ${path} ${contentType} ${body} -> ${res.status} ${text}`);
      else JSON.parse(text);
    };
    for (const c of collections) {
      const item = `${c}/${names[c]}`;
      for (const body of bodies) {
        await attempt('POST', c, body, 'application/json');
        await attempt('PUT', item, body, 'application/json');
        for (const p of patchTypes) await attempt('PATCH', item, body, p);
        await attempt('PATCH', item, '{"metadata": null}', 'application/merge-patch+json');
      }
    }
    assert.deepEqual(failures, []);
  });
});
