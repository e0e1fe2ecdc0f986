// Logs a person can read: the text form's line (local time, level, component, pod, message), the
// format's resolution from --log-format / --logging-format / logging.format and its refusals, and
// the pod scope's mixin (pod and uid on every line logged inside a pod's work) with what it costs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { resolveAgentConfig, type AgentFlags } from '../../src/agent/config/resolve-config.ts';
import { createLogger, effectiveLogFormat, loggerOptions, prettyOptions } from '../../src/agent/logger.ts';
import { outsidePodLogScope, podLogScopeMixin, withPodLogScope } from '../../src/pod/pod-log-scope.ts';

const header = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
const resolve = (flags: AgentFlags, file?: string) =>
  resolveAgentConfig({ hostnameOverride: 'node-a', ...flags, ...(file !== undefined ? { config: 'cfg.yaml' } : {}) }, () => file ?? '').config;

function memory(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

test('the text line: local time, level, component, pod, message, then the other fields on the same line', () => {
  const tz = process.env.TZ;
  // Asia/Kolkata is UTC+05:30 all year: a UTC time would show 14:01, the local one 19:31.
  process.env.TZ = 'Asia/Kolkata';
  try {
    const format = prettyFactory(prettyOptions(false));
    const time = Date.parse('2026-12-03T14:01:22.123Z');
    const line = format({ level: 20, time, name: 'mini-kubelet', component: 'cri-client', pod: 'ns/web', uid: 'u1', method: 'RunPodSandbox', ms: 3, msg: 'CRI call' });
    assert.equal(line, '[19:31:22.123] DEBUG: cri-client ns/web CRI call {"uid":"u1","method":"RunPodSandbox","ms":3}\n');
    // No pod, no component: just the message.
    assert.equal(format({ level: 30, time, name: 'mini-kubelet', msg: 'node registered' }), '[19:31:22.123] INFO: node registered\n');
    assert.equal(format({ level: 40, time, component: 'pleg', msg: 'PLEG relist failed' }), '[19:31:22.123] WARN: pleg PLEG relist failed\n');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});

test('createLogger: text goes through pino-pretty in-process, one line a call; json is one object a line', async () => {
  const text = memory();
  const log = (await createLogger('debug', { format: 'text', destination: text.stream, colorize: false })).child({ component: 'runtime-manager' });
  withPodLogScope({ pod: 'ns/web', uid: 'u1' }, () => log.debug({ container: 'app' }, 'container started'));
  log.info('outside any pod');
  await new Promise((r) => setImmediate(r));
  const lines = text.text().trimEnd().split('\n');
  assert.equal(lines.length, 2, text.text());
  assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] DEBUG: runtime-manager ns\/web container started \{"uid":"u1","container":"app"\}$/);
  assert.match(lines[1]!, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: runtime-manager outside any pod$/);

  const json = memory();
  const jlog = await createLogger('info', { format: 'json', destination: json.stream });
  withPodLogScope({ pod: 'ns/web', uid: 'u1' }, () => jlog.info('hello'));
  await new Promise((r) => setImmediate(r));
  const o = JSON.parse(json.text());
  assert.deepEqual([o.level, o.name, o.pod, o.uid, o.msg], [30, 'mini-kubelet', 'ns/web', 'u1', 'hello']);
});

test('auto: text on a terminal, JSON otherwise; an explicit format wins', () => {
  assert.equal(effectiveLogFormat('auto', true), 'text');
  assert.equal(effectiveLogFormat('auto', false), 'json');
  assert.equal(effectiveLogFormat('json', true), 'json');
  assert.equal(effectiveLogFormat('text', false), 'text');
});

test('--log-format, --logging-format (the kubelet\'s name) and logging.format resolve; flags win over the file', () => {
  assert.equal(resolve({}).logFormat, 'auto');
  assert.equal(resolve({ logFormat: 'json' }).logFormat, 'json');
  assert.equal(resolve({ logFormat: 'text' }).logFormat, 'text');
  assert.equal(resolve({ loggingFormat: 'text' }).logFormat, 'text');
  assert.equal(resolve({ logFormat: 'json', loggingFormat: 'json' }).logFormat, 'json');
  assert.equal(resolve({}, `${header}logging: {format: json, verbosity: 4}\n`).logFormat, 'json');
  assert.equal(resolve({}, `${header}logging: {format: json, verbosity: 4}\n`).logLevel, 'debug');
  assert.equal(resolve({ logFormat: 'text' }, `${header}logging: {format: json}\n`).logFormat, 'text');
  assert.equal(resolve({ loggingFormat: 'text' }, `${header}logging: {format: json}\n`).logFormat, 'text');
});

test('a format that is not json or text is refused, naming where it came from', () => {
  assert.throws(() => resolve({ logFormat: 'yaml' }), /--log-format: "yaml" is not json or text/);
  assert.throws(() => resolve({ loggingFormat: 'klog' }), /--logging-format: "klog" is not json or text/);
  assert.throws(() => resolve({}, `${header}logging: {format: pretty}\n`), /logging\.format: "pretty" is not json or text/);
  assert.throws(() => resolve({}, `${header}logging: {format: 3}\n`), /logging\.format: 3 is not json or text/);
  assert.throws(() => resolve({ logFormat: 'json', loggingFormat: 'text' }), /--log-format: "json" contradicts --logging-format "text"/);
  try {
    resolve({ logFormat: 'yaml' });
  } catch (err) {
    assert.equal((err as Error).name, 'ConfigError');
  }
});

const bin = join(import.meta.dirname, '../../bin/mini-kubelet.mjs');
function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('the CLI exits 2 on a bad format: the agent and dev', async () => {
  const agent = await runCli(['--log-format', 'yaml']);
  assert.equal(agent.code, 2, agent.stderr);
  assert.match(agent.stderr, /--log-format: "yaml" is not json or text/);
  const dev = await runCli(['dev', '--logging-format=xml']);
  assert.equal(dev.code, 2, dev.stderr);
  assert.match(dev.stderr, /--logging-format: "xml" is not json or text/);
});

test('the pod scope: every line inside carries pod and uid, a line\'s own fields win, scopes do not leak', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(loggerOptions('debug'), { write: (s: string) => void lines.push(JSON.parse(s)) });
  await Promise.all(['a', 'b'].map((name) => withPodLogScope({ pod: `ns/${name}`, uid: `u-${name}` }, async () => {
    await new Promise((r) => setTimeout(r, name === 'a' ? 5 : 1));
    log.debug({ step: 1 }, 'inside');
    await Promise.resolve();
    log.debug({ pod: 'ns/other', uid: 'u-other' }, 'names another pod');
  })));
  log.debug('outside');
  // Work one pod starts for every pod (a queue's drain) leaves the scope, timers included.
  await withPodLogScope({ pod: 'ns/a', uid: 'u-a' }, () => outsidePodLogScope(() => new Promise<void>((r) => setTimeout(() => { log.debug('drain'); r(); }, 1))));
  assert.deepEqual(lines.map((l) => [l.msg, l.pod, l.uid]), [
    ['inside', 'ns/b', 'u-b'], ['names another pod', 'ns/other', 'u-other'],
    ['inside', 'ns/a', 'u-a'], ['names another pod', 'ns/other', 'u-other'],
    ['outside', undefined, undefined], ['drain', undefined, undefined],
  ]);
  // The mixin's object is fresh each call (pino merges into it).
  assert.notEqual(podLogScopeMixin(), podLogScopeMixin());
});

test('the pod scope costs little: the mixin runs only for enabled lines; measured per line', (t) => {
  let calls = 0;
  const counting = pino({ ...loggerOptions('info'), mixin: () => (calls++, podLogScopeMixin()) }, { write: () => {} });
  withPodLogScope({ pod: 'ns/web', uid: 'u1' }, () => {
    for (let i = 0; i < 1000; i++) counting.debug({ method: 'Version', ms: 1 }, 'CRI call');
  });
  assert.equal(calls, 0, 'a disabled level never calls the mixin');

  const sink = { write: () => {} };
  const plain = pino({ level: 'debug', name: 'mini-kubelet', base: undefined }, sink);
  const mixed = pino(loggerOptions('debug'), sink);
  const n = 50_000;
  const scope = { pod: 'ns/web', uid: '6c1f2d3e-0000-4000-8000-000000000001' };
  const run = (log: pino.Logger) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < n; i++) log.debug({ method: 'ListContainers', ms: 2 }, 'CRI call');
    return Number(process.hrtime.bigint() - started) / n;
  };
  // Warm up, then the best of three (the machine is shared).
  withPodLogScope(scope, () => { run(plain); run(mixed); });
  let base = Infinity;
  let withMixin = Infinity;
  let outside = Infinity;
  for (let i = 0; i < 3; i++) {
    base = Math.min(base, withPodLogScope(scope, () => run(plain)));
    withMixin = Math.min(withMixin, withPodLogScope(scope, () => run(mixed)));
    outside = Math.min(outside, run(mixed));
  }
  t.diagnostic(`ns per debug line: no mixin ${base.toFixed(0)}, mixin in a pod scope ${withMixin.toFixed(0)} (+${(withMixin - base).toFixed(0)}: the line also carries pod and uid), mixin outside a scope ${outside.toFixed(0)}`);
  // Generous: a line costs microseconds; the mixin adds a fraction of one.
  assert.ok(withMixin - base < 3000, `the mixin added ${withMixin - base} ns a line`);
});
