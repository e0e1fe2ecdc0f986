#!/usr/bin/env node
// mini-kubelet's delegate CNI plugin. The runtime runs it during RunPodSandbox; it forwards
// the request (CNI_* env + stdin) to the agent over a unix socket and relays the answer, so
// the agent's network manager does the real work with the pod's own data. Plain JS with no
// dependencies: it runs once per sandbox and must start fast.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { addedNotePath, DEFAULT_AGENT_SOCKET, DELEGATE_SUPPORTED_VERSIONS, FORWARDED_ENV, pendingDelNotePath } from './protocol.mjs';

const TRY_AGAIN_LATER = 11;
const PLUGIN_NOT_AVAILABLE = 50;
const DECODE_FAILURE = 6;

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function fail(cniVersion, code, msg, details) {
  process.stdout.write(JSON.stringify({ cniVersion, code, msg, ...(details ? { details } : {}) }));
  process.exitCode = 1;
}

/** Send the request and resolve with the agent's answer; reject when the agent is unreachable. */
function askAgent(socketPath, request, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const chunks = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.end(JSON.stringify(request)));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new Error('the agent closed the connection without an answer'));
      }
    });
  });
}

async function writeNote(path, content) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(content));
}

async function main() {
  const command = process.env.CNI_COMMAND ?? '';
  const stdin = await readStdin();
  let conf = {};
  try {
    conf = stdin.trim() ? JSON.parse(stdin) : {};
  } catch (err) {
    return fail('1.0.0', DECODE_FAILURE, 'cannot decode the network configuration on stdin', err.message);
  }
  const cniVersion = typeof conf.cniVersion === 'string' ? conf.cniVersion : '1.0.0';
  if (command === 'VERSION') {
    process.stdout.write(JSON.stringify({ cniVersion, supportedVersions: DELEGATE_SUPPORTED_VERSIONS }));
    return;
  }
  const socketPath = conf.socket || process.env.MINI_KUBELET_CNI_SOCKET || DEFAULT_AGENT_SOCKET;
  const timeoutMs = (Number(conf.timeoutSeconds) || 240) * 1000;
  const env = {};
  for (const key of FORWARDED_ENV) if (process.env[key] !== undefined) env[key] = process.env[key];
  const containerId = env.CNI_CONTAINERID ?? '';
  const ifName = env.CNI_IFNAME ?? '';

  let answer;
  try {
    answer = await askAgent(socketPath, { env, config: stdin }, timeoutMs);
  } catch (err) {
    if (command === 'DEL') {
      // DEL must succeed so the runtime can remove the sandbox. If we know the agent added
      // this attachment, leave a note: the agent runs the real DEL when it is back.
      const added = addedNotePath(socketPath, containerId, ifName);
      const note = await readFile(added, 'utf8').catch(() => undefined);
      if (note !== undefined) {
        await writeNote(pendingDelNotePath(socketPath, containerId, ifName), { env, config: stdin });
        await rm(added, { force: true });
      }
      return;
    }
    if (command === 'GC') return;
    const code = command === 'STATUS' ? PLUGIN_NOT_AVAILABLE : TRY_AGAIN_LATER;
    return fail(cniVersion, code, `mini-kubelet agent unreachable at ${socketPath}`, err.message);
  }
  process.stdout.write(answer.stdout ?? '');
  process.exitCode = answer.exitCode ?? 1;
  if (answer.exitCode === 0 && command === 'ADD') await writeNote(addedNotePath(socketPath, containerId, ifName), { env }).catch(() => {});
  if (answer.exitCode === 0 && command === 'DEL') await rm(addedNotePath(socketPath, containerId, ifName), { force: true });
}

main().catch((err) => fail('1.0.0', 999, 'mini-kubelet delegate failed', String(err?.stack ?? err)));
