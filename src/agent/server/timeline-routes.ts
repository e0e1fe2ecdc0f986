// The node API's debug routes for pod timelines (src/trace/): /debug/pods lists the pods with
// one, /debug/pods/<ns>/<name>/timeline shows one as an HTML waterfall, or with ?format=json
// (or Accept: application/json) as trace-event JSON for Perfetto and `mini-kubelet trace`.
// They pass the same authentication and authorization as every path (nodes/proxy: /debug has
// no subresource of its own); this file only answers.
import type { PodTimelines } from '../../trace/pod-timeline.ts';
import { podIndexJson, renderPodIndexHtml } from '../../trace/views/pod-index.ts';
import { timelinePageCsp, renderTimelineHtml } from '../../trace/views/timeline-html.ts';
import { timelineTraceEvents } from '../../trace/views/trace-events.ts';
import { isDnsLabel, isDnsSubdomain } from './object-names.ts';
import type { RequestTarget } from './request-target.ts';

/** The shapes node-api-server.ts routes with (structurally its Route and Answer). */
export interface TimelineAnswer { status: number; body: string; type?: string; headers?: Record<string, string> }
export interface TimelineRoute {
  pattern: string[];
  get: (ctx: { params: Record<string, string>; target: RequestTarget; accept?: string }) => TimelineAnswer;
}

const plain = (status: number, body: string): TimelineAnswer => ({ status, body });
const html = (body: string): TimelineAnswer => ({ status: 200, type: 'text/html; charset=utf-8', body, headers: { 'content-security-policy': timelinePageCsp, 'cache-control': 'no-store' } });
const json = (body: unknown): TimelineAnswer => ({ status: 200, type: 'application/json', body: JSON.stringify(body), headers: { 'cache-control': 'no-store' } });

/** JSON when the query says so, or when the client asks for JSON before HTML (a browser asks for HTML). */
export function wantsJson(target: RequestTarget, accept: string | undefined): boolean {
  const format = target.query.get('format');
  if (format) return format === 'json';
  const a = (accept ?? '').toLowerCase();
  const j = a.indexOf('application/json');
  const h = a.indexOf('text/html');
  return j !== -1 && (h === -1 || j < h);
}

export function timelineRoutes(timelines: PodTimelines, nodeName: string): TimelineRoute[] {
  const index = (base: string): TimelineRoute['get'] => ({ target, accept }) => {
    const pods = timelines.pods();
    return wantsJson(target, accept) ? json(podIndexJson(nodeName, pods)) : html(renderPodIndexHtml(nodeName, pods, base));
  };
  const timeline: TimelineRoute['get'] = ({ params, target, accept }) => {
    const { namespace, name } = params;
    if (!isDnsLabel(namespace)) return plain(400, `invalid namespace ${JSON.stringify(namespace)}: not a DNS label\n`);
    if (!isDnsSubdomain(name)) return plain(400, `invalid pod name ${JSON.stringify(name)}: not a DNS subdomain\n`);
    const format = target.query.get('format');
    if (format && format !== 'json' && format !== 'html') return plain(400, `unknown format ${JSON.stringify(format)}: json or html\n`);
    const found = timelines.timelineOf(namespace, name);
    if (!found) return plain(404, `no timeline for pod "${namespace}/${name}" on node "${nodeName}": the agent has recorded no span of it (not on this node, or dropped from the buffer)\n`);
    return wantsJson(target, accept) ? json(timelineTraceEvents(found)) : html(renderTimelineHtml(found));
  };
  return [
    { pattern: ['debug', 'pods'], get: index('pods/') },
    { pattern: ['debug', 'pods', ''], get: index('') },
    { pattern: ['debug', 'pods', ':namespace', ':name', 'timeline'], get: timeline },
  ];
}
