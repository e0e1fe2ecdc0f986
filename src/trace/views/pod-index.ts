// /debug/pods: which pods have a timeline, newest first, as a page of links (relative, so they
// work behind the API server's node proxy) or as JSON for scripts.
import type { PodTimeline } from '../pod-timeline.ts';
import { escapeHtml as e } from './escape.ts';

type PodRef = PodTimeline['pod'];

export function podIndexJson(node: string, pods: PodRef[]): object {
  return { node, pods: pods.map((p) => ({ ...p, timeline: `/debug/pods/${encodeURIComponent(p.namespace)}/${encodeURIComponent(p.name)}/timeline` })) };
}

/** `base`: how the page's own address ends, so relative links resolve: 'pods/' at /debug/pods, '' at /debug/pods/. */
export function renderPodIndexHtml(node: string, pods: PodRef[], base = 'pods/'): string {
  const items = pods.map((p) => {
    const href = `${base}${encodeURIComponent(p.namespace)}/${encodeURIComponent(p.name)}/timeline`;
    return `<li><a href="${e(href)}">${e(p.namespace)}/${e(p.name)}</a> <small>${e(p.uid)}</small></li>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pod timelines on ${e(node)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:16px 20px}small{color:#777;font-family:monospace}</style></head>
<body><h1>Pod timelines on node ${e(node)}</h1>
${items.length ? `<ul>\n${items.join('\n')}\n</ul>` : '<p>No pod has a timeline yet.</p>'}
</body></html>
`;
}
