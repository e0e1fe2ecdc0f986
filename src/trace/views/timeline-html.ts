// A pod's timeline as one self-contained HTML page: inline CSS, no script, no external resource,
// so it renders the same with JavaScript off, through any proxy, and saved to a file. A
// waterfall: one row per span, indented by depth, its bar placed by start and sized by duration
// on the axis all rows share; the key attributes under the name, errors in red with their message.
// Links are relative, so they work at /debug/pods/... on the node and under the API server's
// /api/v1/nodes/<node>/proxy/ alike.
import type { PodTimeline } from '../pod-timeline.ts';
import { escapeHtml as e } from './escape.ts';
import { formatMs, layoutTimeline, orderedAttributes, shortId, shortValue, spanSubject } from './layout.ts';

/** What the page may load: nothing but its own inline style (sent as the Content-Security-Policy header). */
export const timelinePageCsp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const style = `
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px 20px;color:#1d232a;background:#fff}
h1{font-size:18px;margin:0 0 6px}
.facts{display:flex;flex-wrap:wrap;gap:4px 20px;margin:0 0 10px;color:#444}
.facts b{color:#1d232a}
a{color:#1459b8}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th{font-weight:600;text-align:left;border-bottom:1px solid #ccd;padding:4px 6px;color:#555}
td{border-bottom:1px solid #eef;padding:3px 6px;vertical-align:top}
col.step{width:38%}col.dur{width:90px}
td.dur{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.name{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-weight:600;word-break:break-all}
.name .sub{font-weight:400;color:#555}
.attrs{font-size:11px;color:#555;word-break:break-all}
.attrs span{margin-right:10px}
.attrs b{font-weight:600;color:#333}
.track{position:relative;height:18px}
.bar{position:absolute;top:3px;height:12px;min-width:2px;background:#3a7bd5;border-radius:2px}
.depth1 .bar{background:#5b95e0}.depth2 .bar{background:#7eaee8}.depth3 .bar{background:#9cc0ee}
tr.error .bar{background:#d93025}
tr.error .name,.err{color:#c5221f}
.err{font-size:12px;font-weight:600;word-break:break-word}
.open .bar{background:repeating-linear-gradient(45deg,#3a7bd5 0 6px,#9cc0ee 6px 12px)}
.axis{position:relative;height:16px}
.tick{position:absolute;top:0;font-size:11px;color:#777;font-weight:400;border-left:1px solid #ccd;padding-left:3px;white-space:nowrap}
.note{color:#8a5a00}
.empty{color:#777;font-style:italic}
`;

/** A round tick step (1, 2 or 5 times a power of ten) giving about five ticks. */
function tickStep(totalMs: number): number {
  if (totalMs <= 0) return 1;
  const rough = totalMs / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
}

const pct = (x: number) => `${(Math.round(x * 1000) / 1000).toString()}%`;

export function renderTimelineHtml(timeline: PodTimeline): string {
  const { pod, node } = timeline;
  const layout = layoutTimeline(timeline);
  const total = layout.totalMs;
  // A timeline of one instant still gets a visible axis.
  const axisMs = total > 0 ? total : 1;
  const step = tickStep(axisMs);
  const ticks: string[] = [];
  // A label too near the right edge would spill past the table: the axis ends there anyway.
  for (let t = 0; t <= axisMs * 0.93 && ticks.length < 12; t += step) {
    ticks.push(`<span class="tick" style="left:${pct((t / axisMs) * 100)}">${e(t === 0 ? '0 ms' : formatMs(t))}</span>`);
  }
  const rows = layout.rows.map(({ span, depth, offsetMs }) => {
    const left = (offsetMs / axisMs) * 100;
    const width = Math.max(0, Math.min(100 - left, (Math.max(0, span.durationMs) / axisMs) * 100));
    const subject = spanSubject(span.attributes);
    // Long IDs shortened, whole in the tooltip; the container is already beside the name.
    const attrs = orderedAttributes(span.attributes, timeline).filter(([k]) => k !== subject?.key)
      .map(([k, v]) => `<span title="${e(v)}"><b>${e(k)}</b> ${e(shortValue(shortId(v)))}</span>`).join('');
    const classes = [`depth${Math.min(depth, 3)}`, span.status === 'error' ? 'error' : 'ok', span.open ? 'open' : ''].filter(Boolean).join(' ');
    const title = `${span.name}: ${formatMs(span.durationMs)} at +${formatMs(offsetMs)}`;
    return `<tr class="${classes}" id="span-${e(span.spanId)}">`
      + `<td style="padding-left:${6 + depth * 16}px"><div class="name">${e(span.name)}${subject ? ` <span class="sub">${e(subject.value)}</span>` : ''}${span.status === 'error' ? ' ✗' : ''}</div>`
      + (attrs ? `<div class="attrs">${attrs}</div>` : '')
      + (span.status === 'error' ? `<div class="err">error: ${e(span.message ?? '(no message)')}</div>` : '')
      + `</td><td class="dur">${e(formatMs(span.durationMs))}${span.open ? ' (open)' : ''}</td>`
      + `<td><div class="track" title="${e(title)}"><div class="bar" style="left:${pct(left)};width:${pct(width)}"></div></div></td></tr>`;
  });
  const started = layout.rows.length ? new Date(layout.startMs).toISOString() : '—';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(`${pod.namespace}/${pod.name}`)} timeline</title><style>${style}</style></head>
<body>
<h1>Pod ${e(pod.namespace)}/${e(pod.name)}</h1>
<div class="facts"><span>uid <b>${e(pod.uid)}</b></span><span>node <b>${e(node)}</b></span><span>started <b>${e(started)}</b></span><span>total <b>${e(formatMs(total))}</b></span><span>spans <b>${layout.rows.length}</b></span><span>errors <b>${layout.errors}</b></span><span><a href="timeline?format=json">trace-event JSON</a> (open in Perfetto)</span><span><a href="../../../pods">all pods</a></span></div>
${timeline.droppedSpans > 0 ? `<p class="note">${timeline.droppedSpans} older span(s) were dropped from this pod's timeline (the buffer keeps the newest).</p>\n` : ''}<table><colgroup><col class="step"><col class="dur"><col></colgroup>
<thead><tr><th>step</th><th>duration</th><th><div class="axis">${ticks.join('')}</div></th></tr></thead>
<tbody>
${rows.length ? rows.join('\n') : '<tr><td colspan="3" class="empty">no spans recorded</td></tr>'}
</tbody></table>
</body></html>
`;
}
