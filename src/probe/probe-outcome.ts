// What one run of a probe or hook handler reports, in the kubelet's three results.
export type ProbeResult = 'success' | 'warning' | 'failure';

export interface ProbeOutcome {
  result: ProbeResult;
  /** what the kubelet puts in the event/message: the command output, or the failure text */
  output: string;
  /** httpGet only: the response status code, when a response came (Go's client.Do returned one
   * without an error; a lifecycle hook fails only without it) */
  statusCode?: number;
}

/** The kubelet keeps at most 10 KiB of a command's output or a response body. */
export const MAX_OUTPUT_BYTES = 10 * 1024;

/** The first MAX_OUTPUT_BYTES of `data` as text (a cut character becomes U+FFFD, as Go's string() does). */
export function limitedText(data: Buffer): string {
  return data.subarray(0, MAX_OUTPUT_BYTES).toString('utf8');
}
