// Which container instances a kill still has to stop: anything not known to have exited.
// 'unknown' counts, since the runtime cannot say it is gone.
export function isActiveContainer(c: { state: string }): boolean {
  return c.state === 'running' || c.state === 'created' || c.state === 'unknown';
}
