// `kubectl logs` as a user meets it: the machine's kubectl, through the dev control plane's
// pods/log proxy, to the agent's /containerLogs on real containerd. Follow streams what the
// container writes after kubectl started and ends when the container exits; timestamps, tail,
// limit-bytes, since and previous give what a kubelet gives; bad options are refused as kube-apiserver does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { pollFor, waitFor } from '../../src/world/wait.ts';
import { busyboxPod, isRunningAndReady, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';
import { requireE2e } from '../helpers/e2e.ts';

const execFileAsync = promisify(execFile);

/** A kubectl that keeps running (logs -f): its output so far, and a way to await more. */
interface Follower {
  child: ChildProcess;
  out(): string;
  /** Resolves once the output so far satisfies `pred`; rejects after timeoutMs or when kubectl exits first. */
  until(pred: (out: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function follow(h: AgentHarness, ...args: string[]): Follower {
  const child = spawn('kubectl', ['--kubeconfig', h.kubeconfigPath, 'logs', '-f', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of [...waiters]) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, stderr: err }));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const w of [...waiters]) w();
  });
  return {
    child,
    out: () => out,
    exited,
    until(pred, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for kubectl logs -f to print ${what}; printed:\n${out}\nstderr: ${err}`)), timeoutMs);
        const finish = (e?: Error) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e) reject(e);
          else resolve(out);
        };
        const check = () => {
          if (pred(out)) finish();
          else if (gone) finish(new Error(`kubectl logs -f exited before printing ${what}; printed:\n${out}\nstderr: ${err}`));
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** kubectl that is expected to fail: its stderr. */
async function kubectlFails(h: AgentHarness, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('kubectl', ['--kubeconfig', h.kubeconfigPath, ...args], { timeout: 30_000 });
    throw new Error(`kubectl ${args.join(' ')} succeeded: ${stdout}`);
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    if (stderr === undefined) throw err;
    return stderr;
  }
}

/** How many of the agent's open files are container log files (each follower holds one). */
function agentLogHandles(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (/\/\d+\.log$/.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) n++;
    } catch {
      // closed between the listing and the look
    }
  }
  return n;
}

const ticks = (out: string) => [...out.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));

test('kubectl logs against the agent on real containerd: follow, timestamps, tail, limit-bytes, since, previous', { timeout: 300_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, { nodeName: 'logs-node' });
  const image = h.world.images.busybox;
  const sh = (script: string) => ({ containers: [{ name: 'app', image, command: ['sh', '-c', script] }] });

  // Both pods at once: the printer's container starts while the follow subtests run.
  await h.createPod(busyboxPod('ticker', image, { restartPolicy: 'Never', ...sh('i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo "tick $i"; sleep 0.3; done') }));
  await h.createPod(busyboxPod('printer', image, sh('echo alpha; echo beta; echo gamma; echo delta; sleep 3600')));

  await t.test('logs -f streams lines written after it started; a follower that goes leaves no open file behind', async () => {
    await h.waitForPod('ticker', 'Running', (p) => p?.status?.phase === 'Running');
    const before = ticks(await h.kubectl('logs', 'ticker'));
    const last = before.at(-1) ?? 0;
    const f = follow(h, 'ticker');
    await f.until((out) => ticks(out).some((n) => n >= last + 3), `three ticks after tick ${last}`);
    const seen = ticks(f.out());
    assert.deepEqual(seen, seen.map((_, i) => i + 1), 'every tick, in order, from the first');
    assert.ok(agentLogHandles(h.agent.pid) >= 1, 'the follower holds the log file open');
    f.child.kill('SIGTERM');
    await f.exited;
    await waitFor(() => agentLogHandles(h.agent.pid) === 0, { timeoutMs: 10_000, intervalMs: 100, what: 'the agent to close the log file of a follower that went away' });
  });

  await t.test('logs -f ends by itself once the container has exited, with every line', async () => {
    const f = follow(h, 'ticker');
    const { code, stderr } = await Promise.race([
      f.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`kubectl logs -f did not end within 60 s; printed:\n${f.out()}`)), 60_000)),
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(ticks(f.out()), Array.from({ length: 30 }, (_, i) => i + 1));
    const pod = await h.core.readNamespacedPod({ namespace: 'default', name: 'ticker' });
    assert.ok(pod.status?.containerStatuses?.[0]?.state?.terminated, 'the container had exited');
    await waitFor(() => agentLogHandles(h.agent.pid) === 0, { timeoutMs: 10_000, intervalMs: 100, what: 'no log file left open' });
  });

  await h.waitForPod('printer', 'Running and Ready', isRunningAndReady);
  await pollFor(async () => (await h.kubectl('logs', 'printer')).includes('delta'), { timeoutMs: 20_000, intervalMs: 200, what: 'printer to have printed its lines' });

  await t.test('--timestamps prefixes each line with its RFC3339Nano time', async () => {
    const out = await h.kubectl('logs', 'printer', '--timestamps');
    const lines = out.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.replace(/^\S+ /, '')), ['alpha', 'beta', 'gamma', 'delta']);
    for (const l of lines) assert.match(l, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}(Z|[+-]\d{2}:\d{2}) \w+$/, l);
    const times = lines.map((l) => Date.parse(l.split(' ')[0]!));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in order');
    assert.ok(Math.abs(times[0]! - Date.now()) < 10 * 60_000, `a time of this run: ${lines[0]}`);
  });

  await t.test('--tail=2 and --limit-bytes', async () => {
    assert.equal(await h.kubectl('logs', 'printer', '--tail=2'), 'gamma\ndelta\n');
    assert.equal(await h.kubectl('logs', 'printer', '--tail=0'), '');
    assert.equal(await h.kubectl('logs', 'printer', '--limit-bytes=8'), 'alpha\nbe');
    assert.equal(await h.kubectl('logs', 'printer', '--tail=1', '--timestamps', '--limit-bytes=10'), (await h.kubectl('logs', 'printer', '--tail=1', '--timestamps')).slice(0, 10));
  });

  await t.test('--since and --since-time skip older lines', async () => {
    assert.equal(await h.kubectl('logs', 'printer', '--since=1h'), 'alpha\nbeta\ngamma\ndelta\n');
    const stamped = (await h.kubectl('logs', 'printer', '--timestamps')).trimEnd().split('\n');
    const deltaTime = stamped[3]!.split(' ')[0]!;
    // kubectl sends sinceTime in whole seconds: the lines of that second or later.
    const out = await h.kubectl('logs', 'printer', `--since-time=${deltaTime}`);
    assert.ok(out.endsWith('delta\n'), out);
    const ageMs = Date.now() - Date.parse(deltaTime);
    // A window that ends well before the lines were written: nothing.
    if (ageMs > 3000) assert.equal(await h.kubectl('logs', 'printer', `--since=${Math.floor(ageMs / 1000) - 1}s`), '');
    // Seconds since a moment just before the lines: all of them.
    assert.equal(await h.kubectl('logs', 'printer', `--since=${Math.ceil(ageMs / 1000) + 5}s`), 'alpha\nbeta\ngamma\ndelta\n');
  });

  await t.test('bad options are refused as kube-apiserver refuses them (422 Invalid; 400 when they do not parse), and the agent keeps serving', async () => {
    const raw = '/api/v1/namespaces/default/pods/printer/log';
    assert.match(await kubectlFails(h, 'get', '--raw', `${raw}?tailLines=-1`), /^The PodLogOptions "printer" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0/);
    assert.match(await kubectlFails(h, 'get', '--raw', `${raw}?sinceTime=garbage`), /BadRequest.*sinceTime: Invalid value: "garbage"/);
    assert.match(await kubectlFails(h, 'get', '--raw', `${raw}?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z`), /at most one of `sinceTime` or `sinceSeconds` may be specified/);
    assert.match(await kubectlFails(h, 'get', '--raw', `${raw}?limitBytes=0`), /^The PodLogOptions "printer" is invalid: limitBytes: Invalid value: 0: must be greater than 0/);
    assert.equal(await h.kubectl('logs', 'printer', '--tail=1'), 'delta\n');
  });

  await t.test('--previous: none before a restart, then the log of the instance before the running one', async () => {
    // Each instance prints a name of its own, runs 8 s and fails; restartPolicy Always starts the next.
    await h.createPod(busyboxPod('crasher', image, { restartPolicy: 'Always', ...sh('echo "instance $(cat /proc/sys/kernel/random/uuid)"; sleep 8; exit 1') }));
    const first = await h.waitForPod('crasher', 'first instance running', (p) => !!p?.status?.containerStatuses?.[0]?.state?.running);
    assert.equal(first!.status!.containerStatuses![0]!.restartCount, 0);
    assert.match(await kubectlFails(h, 'logs', 'crasher', '--previous'), /Error from server \(BadRequest\): previous terminated container "app" in pod "crasher" not found/);
    const firstLog = await pollFor(async () => /^instance \S+\n$/.exec(await h.kubectl('logs', 'crasher'))?.[0], { timeoutMs: 20_000, intervalMs: 200, what: 'the first instance to print' });

    await h.waitForPod('crasher', 'restarted and running again', (p) => {
      const s = p?.status?.containerStatuses?.[0];
      return (s?.restartCount ?? 0) >= 1 && !!s?.state?.running;
    }, 90_000);
    const previous = await h.kubectl('logs', 'crasher', '--previous');
    assert.equal(previous, firstLog, 'the previous instance is the first one');
    const current = await pollFor(async () => /^instance \S+\n$/.exec(await h.kubectl('logs', 'crasher'))?.[0], { timeoutMs: 20_000, intervalMs: 200, what: 'the second instance to print' });
    assert.notEqual(current, previous, 'the running instance has a log of its own');
  });
});
