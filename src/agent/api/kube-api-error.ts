// A refused API call: the HTTP status as `code` and the response text as `body`, the two fields
// callers read off client-node's ApiException before (statusOf, csr-client's 403 message).
// The message names the call and the API's own words (a Status object's message).

export class KubeApiError extends Error {
  /** The API's Status object, when the body was one. */
  readonly status?: { reason?: string; message?: string; code?: number };

  constructor(readonly code: number, readonly body: string, what: string) {
    let status: KubeApiError['status'];
    try {
      const parsed = JSON.parse(body) as { kind?: string };
      if (parsed?.kind === 'Status') status = parsed as KubeApiError['status'];
    } catch {
      // not JSON: the text itself is the message
    }
    const said = status?.message ?? body.slice(0, 500);
    super(`${what}: HTTP ${code}${status?.reason ? ` ${status.reason}` : ''}${said ? `: ${said}` : ''}`);
    this.name = 'KubeApiError';
    this.status = status;
  }
}
