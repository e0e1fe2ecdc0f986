// `mini-kubelet sim-runtime`'s latency and fault flags: their syntax, their errors, and what they
// make the FaultInjector do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { ConfigError } from '../../src/agent/config/config-error.ts';
import { faultInjectorFromFlags, parseDelayFlag, parseFailFlag, parseLatencyFlag, parseLatencyProfile } from '../../src/cri/sim/cli-options.ts';
import { FaultInjector, type CriRpcName } from '../../src/cri/sim/faults.ts';

async function outcomes(f: FaultInjector, rpc: CriRpcName, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await f.before(rpc).then(() => 'ok', (e: { code: number; message: string }) => `${status[e.code]}: ${e.message}`));
  return out;
}

function throwsConfig(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ConfigError && err.field === field && message.test(err.message));
}

test('--latency: RPC=MEAN with an optional ±JITTER (or +-), in Go durations', () => {
  assert.deepEqual(parseLatencyFlag('RunPodSandbox=200ms±50ms'), { rpc: 'RunPodSandbox', profile: { meanMs: 200, jitterMs: 50 } });
  assert.deepEqual(parseLatencyFlag('PullImage=1.5s+-250ms'), { rpc: 'PullImage', profile: { meanMs: 1500, jitterMs: 250 } });
  assert.deepEqual(parseLatencyFlag('Version=150ms'), { rpc: 'Version', profile: { meanMs: 150, jitterMs: 0 } });
  assert.deepEqual(parseLatencyFlag('Version=0'), { rpc: 'Version', profile: { meanMs: 0, jitterMs: 0 } });
});

test('--latency refuses unknown RPCs, a missing =, bad durations and two jitters', () => {
  throwsConfig(() => parseLatencyFlag('RunPodSandBox=200ms'), '--latency', /unknown RPC "RunPodSandBox" \(known: Version, RunPodSandbox,/);
  throwsConfig(() => parseLatencyFlag('RunPodSandbox'), '--latency', /is not RPC=MEAN\[±JITTER\]/);
  throwsConfig(() => parseLatencyFlag('RunPodSandbox=200'), '--latency', /is not a duration/);
  throwsConfig(() => parseLatencyFlag('RunPodSandbox=200ms±'), '--latency', /empty duration/);
  throwsConfig(() => parseLatencyFlag('RunPodSandbox=1s±1ms±1ms'), '--latency', /more than one jitter/);
});

test('--latency-profile: a JSON object of RPC to { meanMs, jitterMs }', () => {
  assert.deepEqual(parseLatencyProfile('{ "RunPodSandbox": { "meanMs": 200, "jitterMs": 50 }, "PullImage": { "meanMs": 1000 } }', 'lat.json'), [
    { rpc: 'RunPodSandbox', profile: { meanMs: 200, jitterMs: 50 } },
    { rpc: 'PullImage', profile: { meanMs: 1000, jitterMs: 0 } },
  ]);
  throwsConfig(() => parseLatencyProfile('{ "Pull": { "meanMs": 1 } }', 'lat.json'), 'lat.json', /unknown RPC "Pull"/);
  throwsConfig(() => parseLatencyProfile('{ "PullImage": { "meanMs": 1, "jitter": 2 } }', 'lat.json'), 'lat.json: PullImage.jitter', /unknown field/);
  throwsConfig(() => parseLatencyProfile('{ "PullImage": { "jitterMs": 2 } }', 'lat.json'), 'lat.json: PullImage.meanMs', /must be a number of milliseconds >= 0, got undefined/);
  throwsConfig(() => parseLatencyProfile('{ "PullImage": { "meanMs": "200ms" } }', 'lat.json'), 'lat.json: PullImage.meanMs', /got "200ms"/);
  throwsConfig(() => parseLatencyProfile('[1]', 'lat.json'), 'lat.json', /must be a JSON object/);
  throwsConfig(() => parseLatencyProfile('{', 'lat.json'), 'lat.json', /not JSON/);
});

test('--fail: nth, times (or all) and share', () => {
  assert.deepEqual(parseFailFlag('CreateContainer:nth=1'), { rpc: 'CreateContainer', window: { nth: 1, times: 1 } });
  assert.deepEqual(parseFailFlag('StartContainer'), { rpc: 'StartContainer', window: { nth: 1, times: 1 } });
  assert.deepEqual(parseFailFlag('StartContainer:nth=3:times=2'), { rpc: 'StartContainer', window: { nth: 3, times: 2 } });
  assert.deepEqual(parseFailFlag('StartContainer:times=all'), { rpc: 'StartContainer', window: { nth: 1, times: Infinity } });
  // A share covers every call (from nth) unless times narrows it.
  assert.deepEqual(parseFailFlag('PullImage:share=0.1'), { rpc: 'PullImage', window: { nth: 1, times: Infinity }, share: 0.1 });
  assert.deepEqual(parseFailFlag('PullImage:nth=5:times=10:share=.5'), { rpc: 'PullImage', window: { nth: 5, times: 10 }, share: 0.5 });
});

test('--fail refuses unknown RPCs and keys, repeated keys, and out-of-range values', () => {
  throwsConfig(() => parseFailFlag('Create:nth=1'), '--fail', /unknown RPC "Create"/);
  throwsConfig(() => parseFailFlag('CreateContainer:n=1'), '--fail', /"n=1" in "CreateContainer:n=1" is not one of nth=, times=, share=/);
  throwsConfig(() => parseFailFlag('CreateContainer:nth'), '--fail', /is not one of/);
  throwsConfig(() => parseFailFlag('CreateContainer:nth=1:nth=2'), '--fail', /nth= given twice/);
  throwsConfig(() => parseFailFlag('CreateContainer:nth=0'), '--fail', /nth= must be an integer >= 1, got "0"/);
  throwsConfig(() => parseFailFlag('CreateContainer:times=-1'), '--fail', /times= must be an integer >= 1/);
  throwsConfig(() => parseFailFlag('CreateContainer:share=1.5'), '--fail', /share= must be a number from 0 to 1, got "1.5"/);
  throwsConfig(() => parseFailFlag('CreateContainer:share=abc'), '--fail', /share= must be a number from 0 to 1/);
});

test('--delay: ms is required; nth and times as for --fail', () => {
  assert.deepEqual(parseDelayFlag('RunPodSandbox:nth=3:ms=500'), { rpc: 'RunPodSandbox', ms: 500, window: { nth: 3, times: 1 } });
  assert.deepEqual(parseDelayFlag('StopContainer:ms=20:times=all'), { rpc: 'StopContainer', ms: 20, window: { nth: 1, times: Infinity } });
  throwsConfig(() => parseDelayFlag('RunPodSandbox:nth=3'), '--delay', /needs ms=/);
  throwsConfig(() => parseDelayFlag('RunPodSandbox:ms=1s'), '--delay', /ms= must be a number of milliseconds, got "1s"/);
  throwsConfig(() => parseDelayFlag('RunPodSandbox:ms=5:share=0.5'), '--delay', /is not one of nth=, times=, ms=/);
  throwsConfig(() => parseDelayFlag('Nope:ms=5'), '--delay', /unknown RPC "Nope"/);
});

test('the flags drive the injector: the nth call fails with what fail() answers, by default UNKNOWN', async () => {
  const f = faultInjectorFromFlags({ fail: ['CreateContainer:nth=2'] });
  assert.deepEqual(await outcomes(f, 'CreateContainer', 3), ['ok', 'UNKNOWN: injected fault: CreateContainer failed', 'ok']);
});

test('a share fails about that share of the calls, drawn from the injected random source', async () => {
  const draws = [0.05, 0.5, 0.09, 0.99, 0.1];
  const f = faultInjectorFromFlags({ fail: ['PullImage:share=0.1'] }, new FaultInjector(() => draws.shift()!));
  assert.deepEqual((await outcomes(f, 'PullImage', 5)).map((o) => o.split(':')[0]), ['UNKNOWN', 'ok', 'UNKNOWN', 'ok', 'ok']);
  const never = faultInjectorFromFlags({ fail: ['PullImage:share=0'] });
  assert.deepEqual(await outcomes(never, 'PullImage', 3), ['ok', 'ok', 'ok']);
});

test('latency holds every call; jitter spreads it around the mean; --latency overrides the profile file', async () => {
  const f = faultInjectorFromFlags({
    latencyProfile: { json: '{ "Version": { "meanMs": 5000 }, "Status": { "meanMs": 40, "jitterMs": 20 } }', source: 'p.json' },
    latency: ['Version=30ms'],
  }, new FaultInjector(() => 0)); // 0 → the low end: mean - jitter
  for (const [rpc, atLeast] of [['Version', 30], ['Status', 20]] as const) {
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      await f.before(rpc);
      const took = performance.now() - started;
      assert.ok(took >= atLeast - 2, `${rpc} took ${took} ms, expected >= ${atLeast}`);
      assert.ok(took < 1000, `${rpc} took ${took} ms: the profile's 5 s was not overridden`);
    }
  }
  assert.throws(() => new FaultInjector().latency('Version', { meanMs: -1 }), RangeError);
});

test('--delay holds only the nth call', async () => {
  const f = faultInjectorFromFlags({ delay: ['StartContainer:nth=2:ms=40'] });
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await f.before('StartContainer');
    times.push(performance.now() - started);
  }
  assert.ok(times[1]! >= 38, `second call took ${times[1]} ms`);
});

test('one bad flag leaves the injector untouched', () => {
  const f = new FaultInjector();
  throwsConfig(() => faultInjectorFromFlags({ latency: ['Version=10ms'], fail: ['Bogus:nth=1'] }, f), '--fail', /unknown RPC "Bogus"/);
  return f.before('Version'); // no latency was set: resolves at once
});
