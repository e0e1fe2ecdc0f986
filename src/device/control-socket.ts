// A tiny control channel for the sample plugin, so tests and people can break a device on
// purpose: a unix socket taking one command per line, answering "ok" or "error: ...".
//   unhealthy <device-id>     healthy <device-id>     list
// e.g.  echo "unhealthy fpga1" | socat - UNIX-CONNECT:/run/fpga-control.sock
import { createConnection, createServer, type Server } from 'node:net';
import { rm } from 'node:fs/promises';
import type { RunningDevicePlugin } from './sample-plugin.ts';

export interface ControlSocket {
  stop(): Promise<void>;
}

export async function startControlSocket(path: string, plugin: RunningDevicePlugin, deviceIds: () => string[]): Promise<ControlSocket> {
  await rm(path, { force: true });
  const handle = (line: string): string => {
    const [verb, id] = line.trim().split(/\s+/);
    try {
      if (verb === 'unhealthy' || verb === 'healthy') {
        plugin.setHealth(id ?? '', verb === 'healthy');
        return 'ok';
      }
      if (verb === 'list') return `ok ${deviceIds().join(',')}`;
      return `error: unknown command "${verb}" (want healthy ID, unhealthy ID, list)`;
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  };
  const server: Server = createServer((conn) => {
    let buffered = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) conn.write(`${handle(line)}\n`);
      }
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
  return {
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(path, { force: true });
    },
  };
}

/** Client side: sends one command and returns the answer line. */
export function sendControlCommand(path: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let answer = '';
    const timer = setTimeout(() => { conn.destroy(); reject(new Error(`no answer from ${path} within ${timeoutMs} ms`)); }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('\n')) {
        clearTimeout(timer);
        conn.end();
        resolve(answer.trim());
      }
    });
    conn.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
}
