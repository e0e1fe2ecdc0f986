// CRI container logs as the kubelet serves them to `kubectl logs`, in reading order:
//   logs/cri-line.ts       one line of the CRI format, and RFC 3339 times;
//   logs/log-options.ts    the query (tailLines, limitBytes, sinceSeconds/sinceTime, timestamps, previous);
//   logs/log-selection.ts  which entries the options keep;
//   logs/log-files.ts      the kubelet's file layout, which instance is meant, and the file streamed.
export * from './logs/cri-line.ts';
export { parseRfc3339 } from '../../pod/rfc3339.ts';
export * from './logs/log-options.ts';
export * from './logs/log-selection.ts';
export * from './logs/log-files.ts';
