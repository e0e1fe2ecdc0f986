// ConfigMaps and Secrets marked immutable refuse changes to their data, as kube-apiserver does;
// metadata (labels) may still change, and the object may be deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startApiServer } from '../../src/apiserver/index.ts';
import { apiJson } from '../helpers/api-client.ts';

test('immutable ConfigMaps and Secrets refuse data changes with 422', async (t) => {
  const server = await startApiServer({ port: 0, binder: false, logger: pino({ level: 'silent' }) });
  t.after(() => server.stop());
  const base = '/api/v1/namespaces/default';

  for (const [plural, kind, body] of [
    ['configmaps', 'ConfigMap', { data: { a: '1' } }],
    ['secrets', 'Secret', { data: { a: Buffer.from('1').toString('base64') } }],
  ] as const) {
    const created = await apiJson(server, 'POST', `${base}/${plural}`, { metadata: { name: 'frozen' }, immutable: true, ...body });
    assert.equal(created.status, 201, JSON.stringify(created.json));

    const changed = await apiJson(server, 'PUT', `${base}/${plural}/frozen`, { ...created.json, data: { a: Buffer.from('2').toString('base64') } });
    assert.equal(changed.status, 422, `${kind} data change: ${JSON.stringify(changed.json)}`);
    assert.equal(changed.json.message, `${kind} "frozen" is invalid: data: Forbidden: field is immutable when \`immutable\` is set`);

    const thawed = await apiJson(server, 'PUT', `${base}/${plural}/frozen`, { ...created.json, immutable: false });
    assert.equal(thawed.status, 422, `${kind} immutable → false`);
    assert.match(thawed.json.message, /immutable: Forbidden: field is immutable when `immutable` is set/);

    const relabelled = await apiJson(server, 'PUT', `${base}/${plural}/frozen`, { ...created.json, metadata: { ...created.json.metadata, labels: { l: 'v' } } });
    assert.equal(relabelled.status, 200, `${kind} labels may change: ${JSON.stringify(relabelled.json)}`);
    assert.equal((await apiJson(server, 'DELETE', `${base}/${plural}/frozen`)).status, 200);
  }
});
