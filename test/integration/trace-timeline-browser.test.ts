// The timeline page as a browser shows it, from a hand-made timeline (the e2e test does the same
// with a real pod's spans): headless Chromium renders it with JavaScript off and without any
// network, every step and its duration is on the page, a <script> in an attribute stays text,
// and the screenshot is a real picture of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderTimelineHtml } from '../../src/trace/views/timeline-html.ts';
import { formatMs } from '../../src/trace/views/layout.ts';
import { domText, dumpDom, pngSize, requireChromium, screenshot } from '../helpers/chromium.ts';
import { hostileTimeline, twoContainersTimeline } from '../helpers/timeline-fixture.ts';

test('Chromium renders the fixture timeline: every step with its duration, a non-trivial screenshot', async (t) => {
  if (!requireChromium(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'mk-timeline-page-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const timeline = twoContainersTimeline();
  const page = join(dir, 'timeline.html');
  writeFileSync(page, renderTimelineHtml(timeline));
  const dom = await dumpDom(pathToFileURL(page).href);
  const text = domText(dom);
  for (const s of timeline.spans) assert.ok(text.includes(`${s.name}`) && text.includes(formatMs(s.durationMs)), `${s.name} ${formatMs(s.durationMs)}`);
  assert.match(text, /Pod default\/two-containers/);
  const png = await screenshot(pathToFileURL(page).href, join(dir, 'timeline.png'));
  assert.deepEqual(pngSize(png), { width: 1400, height: 900 });
  // A blank 1400x900 PNG is a few kB; text and bars make it tens.
  assert.ok(png.length > 20_000, `screenshot only ${png.length} bytes`);
  if (process.env.TIMELINE_SCREENSHOT) copyFileSync(join(dir, 'timeline.png'), process.env.TIMELINE_SCREENSHOT.replace(/\.png$/, '') + '-fixture.png');
});

test('Chromium keeps a <script> from a pod\'s attributes as text: the DOM has no script element', async (t) => {
  if (!requireChromium(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'mk-timeline-page-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const page = join(dir, 'hostile.html');
  writeFileSync(page, renderTimelineHtml(hostileTimeline()));
  const dom = await dumpDom(pathToFileURL(page).href);
  assert.doesNotMatch(dom, /<script|<img/i);
  assert.match(dom, /&lt;script&gt;alert\("x"\)&lt;\/script&gt;/);
});
