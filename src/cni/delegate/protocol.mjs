// The wire between the delegate plugin and the agent, shared by both sides (plain JS so the
// delegate starts without tsx). One request per connection: the delegate writes
// {"env": {CNI_*}, "config": "<stdin>"} and half-closes; the agent answers
// {"exitCode": n, "stdout": "..."} and closes. The delegate keeps small notes next to the
// socket so a DEL that finds no agent is finished by the agent when it is back.
import { dirname, join } from 'node:path';

export const DEFAULT_AGENT_SOCKET = '/var/lib/mini-kubelet/cni/agent.sock';
export const DELEGATE_SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'];
/** The CNI_* variables the delegate forwards. */
export const FORWARDED_ENV = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'];

function noteName(containerId, ifName) {
  return `${containerId}-${ifName}.json`.replace(/[/\\]/g, '_');
}

/** Notes of attachments the agent reported as added (removed again on a successful DEL). */
export function addedNotePath(socketPath, containerId, ifName) {
  return join(dirname(socketPath), 'delegate', 'added', noteName(containerId, ifName));
}

/** DELs the runtime asked for while the agent was away; the agent runs them on start. */
export function pendingDelDir(socketPath) {
  return join(dirname(socketPath), 'delegate', 'pending-del');
}

export function pendingDelNotePath(socketPath, containerId, ifName) {
  return join(pendingDelDir(socketPath), noteName(containerId, ifName));
}
