// A real pod's timeline, as someone debugging a slow start sees it: a two-container pod on real
// containerd, its timeline page fetched from the node API through the dev control plane's
// nodes/proxy (as `kubectl get --raw` does), rendered by headless Chromium with no network and
// no JavaScript needed: the sandbox, the image, each container's create and start are on the
// page with their durations, and the screenshot is a real picture. TIMELINE_SCREENSHOT=<file>
// keeps the PNG. The CLI's waterfall of the same pod is checked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pollFor } from '../../src/world/wait.ts';
import { traceOutput } from '../../src/trace/command.ts';
import { isRunningAndReady, namespace, startAgentHarness } from '../helpers/agent-harness.ts';
import { domText, dumpDom, pngSize, requireChromium, screenshot } from '../helpers/chromium.ts';
import { requireE2e } from '../helpers/e2e.ts';

interface Row { name: string; duration: string; text: string }

/** The waterfall's rows as Chromium rendered them: each span's name, duration cell and text. */
function rowsOf(dom: string): Row[] {
  return dom.split(/<tr /).slice(1).filter((r) => r.includes('id="span-')).map((r) => ({
    name: (/<div class="name">([^<]*)/.exec(r)?.[1] ?? '').replace(/ ✗$/, '').trim(),
    duration: /<td class="dur">([^<]*)/.exec(r)?.[1] ?? '',
    text: domText(r),
  }));
}

test('a two-container pod\'s timeline page, through the node proxy, rendered by headless Chromium', { timeout: 300_000 }, async (t) => {
  if (!requireE2e(t)) return;
  if (!requireChromium(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'mk-timeline-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await startAgentHarness(t, { nodeName: 'timeline-node' });
  const image = h.world.images.busybox;
  await h.createPod({
    metadata: { name: 'two-containers', namespace },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: [
        { name: 'talker', image, command: ['sh', '-c', 'while true; do echo hello; sleep 5; done'] },
        { name: 'sleeper', image, command: ['sleep', '3600'] },
      ],
    },
  });
  await h.waitForPod('two-containers', 'Running and Ready', isRunningAndReady, 120_000);

  const proxied = `/api/v1/nodes/${h.nodeName}/proxy/debug/pods/${namespace}/two-containers/timeline`;
  // Spans end as the steps return; the status may be patched a moment before the last one is kept.
  const trace = await pollFor(async () => {
    const doc = JSON.parse(await h.kubectl('get', '--raw', `${proxied}?format=json`)) as { traceEvents: Array<{ ph: string; name: string }> };
    const starts = doc.traceEvents.filter((e) => e.ph === 'X' && e.name === 'StartContainer').length;
    return starts >= 2 ? doc : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500, what: 'the timeline to hold both StartContainer spans' }).catch((err) => {
    throw new Error(`${(err as Error).message}\nagent log:\n${h.agentLogTail()}`);
  });
  const html = await h.kubectl('get', '--raw', `${proxied}?format=html`);
  assert.match(html, /^<!doctype html>/);
  const page = join(dir, 'timeline.html');
  writeFileSync(page, html);

  const dom = await dumpDom(pathToFileURL(page).href);
  const rows = rowsOf(dom);
  assert.equal(rows.length, trace.traceEvents.filter((e) => e.ph === 'X').length, 'one row per span');
  const withDuration = (r: Row) => /^\d+(\.\d+)? ms/.test(r.duration);
  assert.ok(rows.every(withDuration), `every row has a duration: ${JSON.stringify(rows.filter((r) => !withDuration(r)))}`);
  assert.ok(rows.some((r) => r.name === 'RunPodSandbox'), 'RunPodSandbox is on the page');
  assert.ok(rows.some((r) => r.name === 'PullImage' || r.text.includes(image)), `PullImage or the image ${image} is on the page`);
  // One create and one start per container: named by its container where the span says which.
  for (const step of ['CreateContainer', 'StartContainer']) {
    const of = rows.filter((r) => r.name === step);
    assert.ok(of.length >= 2, `${step} twice on the page: ${JSON.stringify(rows.map((r) => r.name))}`);
    for (const container of ['talker', 'sleeper']) {
      assert.ok(of.some((r) => r.text.includes(container)) || rows.some((r) => r.text.includes(container)), `${step} of ${container} is on the page`);
    }
  }
  assert.match(domText(dom), new RegExp(`Pod ${namespace}/two-containers`));

  const png = await screenshot(pathToFileURL(page).href, join(dir, 'timeline.png'));
  assert.deepEqual(pngSize(png), { width: 1400, height: 900 });
  assert.ok(png.length > 20_000, `screenshot only ${png.length} bytes`);
  if (process.env.TIMELINE_SCREENSHOT) copyFileSync(join(dir, 'timeline.png'), process.env.TIMELINE_SCREENSHOT);

  // The same pod in the terminal, through the same proxy.
  const text = await traceOutput(h.kubeconfigPath, namespace, 'two-containers', { width: 120 });
  for (const step of ['RunPodSandbox', 'CreateContainer', 'StartContainer']) assert.match(text, new RegExp(`\\b${step}\\b`));
});
