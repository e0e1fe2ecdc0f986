// A pod's timeline for a terminal (`mini-kubelet trace`): plain text of a fixed width, no
// colour codes, so it reads the same in a pipe, a log or a bug report. One line per span: the
// name indented by depth, a bar of '=' placed on the axis all lines share, the duration; a
// failed step is marked '!' with its message on the next line, and the key attributes follow
// on a line of their own unless asked not to.
import type { PodTimeline } from '../pod-timeline.ts';
import { formatMs, layoutTimeline, orderedAttributes, shortId, shortValue, spanSubject } from './layout.ts';

export interface TextOptions {
  /** Total line width (default 100, at least 60). */
  width?: number;
  /** Print each span's attributes under it (default true). */
  attributes?: boolean;
}

const fit = (s: string, n: number) => (s.length > n ? `${s.slice(0, Math.max(0, n - 1))}…` : s.padEnd(n));

export function renderTimelineText(timeline: PodTimeline, opts: TextOptions = {}): string {
  const width = Math.max(60, opts.width ?? 100);
  const showAttributes = opts.attributes ?? true;
  const layout = layoutTimeline(timeline);
  const nameWidth = Math.floor(width * 0.36);
  const durWidth = 11;
  // mark(1) + space + name + ' |' + bar + '| ' + duration
  const barWidth = width - 1 - 1 - nameWidth - 2 - 2 - durWidth;
  const axisMs = layout.totalMs > 0 ? layout.totalMs : 1;
  const { pod, node } = timeline;
  const lines = [
    `pod ${pod.namespace}/${pod.name}  uid ${pod.uid}  node ${node}`,
    `total ${formatMs(layout.totalMs)}, ${layout.rows.length} span(s), ${layout.errors} error(s)${timeline.droppedSpans ? `, ${timeline.droppedSpans} older span(s) dropped` : ''}`,
    `  ${fit('step', nameWidth)} |${fit(`0${' '.repeat(Math.max(0, barWidth - 1 - formatMs(layout.totalMs).length))}${formatMs(layout.totalMs)}`, barWidth)}| ${'duration'.padStart(durWidth)}`,
  ];
  for (const { span, depth, offsetMs } of layout.rows) {
    const from = Math.min(barWidth - 1, Math.floor((offsetMs / axisMs) * barWidth));
    // Every span gets at least one character, so a 0.1 ms step is still seen.
    const len = Math.max(1, Math.min(barWidth - from, Math.round((Math.max(0, span.durationMs) / axisMs) * barWidth)));
    const bar = ' '.repeat(from) + (span.open ? '~' : span.status === 'error' ? '!' : '=').repeat(len) + ' '.repeat(barWidth - from - len);
    const failed = span.status === 'error';
    const subject = spanSubject(span.attributes);
    const name = fit(`${'  '.repeat(depth)}${span.name}${subject ? ` ${subject.value}` : ''}`, nameWidth);
    const duration = `${formatMs(span.durationMs)}${span.open ? '+' : ''}`.padStart(durWidth);
    lines.push(`${failed ? '!' : ' '} ${name} |${bar}| ${duration}`);
    const indent = ' '.repeat(2 + 2 * depth + 2);
    if (failed) lines.push(fit(`${indent}error: ${span.message ?? '(no message)'}`, width).trimEnd());
    if (showAttributes) {
      const attrs = orderedAttributes(span.attributes, timeline).filter(([k]) => k !== subject?.key).map(([k, v]) => `${k}=${shortValue(shortId(v), 60)}`).join(' ');
      if (attrs) lines.push(fit(`${indent}${attrs}`, width).trimEnd());
    }
  }
  if (!layout.rows.length) lines.push('  (no spans recorded)');
  return `${lines.join('\n')}\n`;
}
