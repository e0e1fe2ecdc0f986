// The simulated runtime's streaming server: where the URLs that Exec, Attach and PortForward answer
// lead. It speaks the server end of the v4 remote-command protocol over SPDY/3.1, as a CRI runtime's
// streaming server does, with a scripted shell instead of processes: a command runs as the
// simulated runtime plays it (process.ts: echo, true, false, exit, ...); `sh` with stdin reads lines
// and plays each; `cat` with stdin echoes it. Attach keeps the streams open while the container runs.
// Port-forward answers every connection with an error: nothing listens in a simulated pod.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import {
  Control, controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, FLAG_FIN, FrameReader, HeaderCompressor, HeaderDecompressor, streamIdOf,
} from '../../util/spdy-frames.ts';
import { planExec, type ProcessEnv } from './process.ts';

export type StreamSession =
  | { kind: 'exec'; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean; running: () => boolean;
      /** The container's hostname and env, for the script's $(hostname) and $VARS. */
      env?: ProcessEnv }
  | { kind: 'attach'; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean; running: () => boolean }
  | { kind: 'portforward'; ports: number[] };

/** How long a URL the runtime handed out may wait to be used (a CRI streaming server's token life). */
const TOKEN_TTL_MS = 60_000;
const SHELLS = new Set(['sh', 'bash', 'ash', 'dash']);

export interface SimStreamingServer {
  /** A one-time URL for the session. */
  register(session: StreamSession): string;
  stop(): Promise<void>;
}

export async function startSimStreamingServer(log: Logger): Promise<SimStreamingServer> {
  const sessions = new Map<string, { session: StreamSession; timer: NodeJS.Timeout }>();
  const server: Server = createServer((_req, res) => res.writeHead(400, { 'content-type': 'text/plain' }).end('Upgrade request required\n'));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const token = /^\/(?:exec|attach|portforward)\/([a-f0-9]+)$/.exec(req.url ?? '')?.[1];
    const entry = token ? sessions.get(token) : undefined;
    if (!token || !entry) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 25\r\nConnection: close\r\n\r\nunknown streaming session');
      return;
    }
    sessions.delete(token);
    clearTimeout(entry.timer);
    if (!/spdy\/3\.1/i.test(String(req.headers.upgrade ?? ''))) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 24\r\nConnection: close\r\n\r\nonly SPDY/3.1 is served\n');
      return;
    }
    const protocol = entry.session.kind === 'portforward' ? 'portforward.k8s.io' : 'v4.channel.k8s.io';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    new ServerSession(socket, entry.session, log).start(head);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  server.unref();

  return {
    register(session) {
      const token = randomBytes(8).toString('hex');
      const timer = setTimeout(() => sessions.delete(token), TOKEN_TTL_MS).unref();
      sessions.set(token, { session, timer });
      return `http://127.0.0.1:${port}/${session.kind}/${token}`;
    },
    async stop() {
      for (const { timer } of sessions.values()) clearTimeout(timer);
      sessions.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One SPDY session: streams arrive by type, then the scripted process runs on them. */
class ServerSession {
  private readonly reader = new FrameReader();
  private readonly inflate = new HeaderDecompressor();
  private readonly deflate = new HeaderCompressor();
  private readonly byType = new Map<string, number>();
  private readonly typeOf = new Map<number, string>();
  private writes: Promise<void> = Promise.resolve();
  private frames: Promise<void> = Promise.resolve();
  private started = false;
  private ended = false;
  private stdinLine = '';
  private onStdin?: (chunk: Buffer) => void;
  private onStdinEnd?: () => void;

  constructor(private readonly socket: Duplex, private readonly session: StreamSession, private readonly log: Logger) {}

  start(head: Buffer): void {
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('close', () => this.end());
    if (head.length) this.receive(head);
  }

  private receive(chunk: Buffer): void {
    for (const frame of this.reader.push(chunk)) {
      // Header blocks share one zlib stream: frames are handled in order.
      this.frames = this.frames.then(() => this.handle(frame)).catch((err: unknown) => {
        this.log.debug({ err: String(err) }, 'sim streaming: bad frame');
        this.end();
      });
    }
  }

  private async handle(frame: ReturnType<FrameReader['push']>[number]): Promise<void> {
    if (!frame.control) {
      const type = this.typeOf.get(frame.streamId);
      if (type === 'stdin') {
        if (frame.body.length) this.onStdin?.(frame.body);
        if (frame.flags & FLAG_FIN) this.onStdinEnd?.();
      }
      if (type === 'data' && this.session.kind === 'portforward') this.refusePort(frame.streamId);
      return;
    }
    if (frame.type === Control.Ping) return this.write(controlFrame(Control.Ping, 0, frame.body));
    if (frame.type === Control.GoAway) return this.end();
    if (frame.type !== Control.SynStream) return;
    const id = streamIdOf(frame.body);
    const headers = decodeHeaderBlock(await this.inflate.decompress(frame.body.subarray(10)));
    const type = headers.streamtype ?? '';
    this.typeOf.set(id, type);
    this.byType.set(this.session.kind === 'portforward' ? `${type}:${headers.requestid ?? ''}` : type, id);
    const reply = Buffer.alloc(4);
    reply.writeUInt32BE(id, 0);
    this.write(controlFrame(Control.SynReply, 0, Buffer.concat([reply, await this.deflate.compress(encodeHeaderBlock({}))])));
    if (this.session.kind !== 'portforward' && !this.started && this.allStreamsOpen()) {
      this.started = true;
      void this.run();
    }
  }

  private allStreamsOpen(): boolean {
    const s = this.session as Exclude<StreamSession, { kind: 'portforward' }>;
    return this.byType.has('error') && (!s.stdin || this.byType.has('stdin')) && (!s.stdout || this.byType.has('stdout'))
      && (!s.stderr || s.tty || this.byType.has('stderr'));
  }

  private out(text: string): void {
    const id = this.byType.get('stdout');
    if (id !== undefined && text) this.write(dataFrame(id, Buffer.from(text)));
  }

  /** stderr, or stdout with a TTY (a terminal has one stream). */
  private err(text: string): void {
    const id = this.byType.get('stderr') ?? this.byType.get('stdout');
    if (id !== undefined && text) this.write(dataFrame(id, Buffer.from(text)));
  }

  /** The scripted process; its exit ends the session with the v4 status on the error stream. */
  private async run(): Promise<void> {
    const s = this.session as Exclude<StreamSession, { kind: 'portforward' }>;
    const nl = s.tty ? '\r\n' : '\n';
    let code = 0;
    if (s.kind === 'attach') {
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (!s.running() || this.ended) { clearInterval(check); resolve(); }
        }, 500);
      });
    } else if (s.stdin && SHELLS.has(basename(s.cmd[0] ?? '')) && s.cmd[1] !== '-c') {
      code = await this.shell(s.tty, nl, s.kind === 'exec' ? s.env : undefined);
    } else if (s.stdin && basename(s.cmd[0] ?? '') === 'cat' && s.cmd.length === 1) {
      await new Promise<void>((resolve) => {
        this.onStdin = (chunk) => this.out(chunk.toString());
        this.onStdinEnd = resolve;
      });
    } else {
      const plan = planExec(s.cmd, s.env);
      for (const line of plan.stdout) this.out(`${line}${nl}`);
      for (const line of plan.stderr) this.err(`${line}${nl}`);
      code = plan.exit?.code ?? 0;
    }
    this.finish(code, s.kind === 'exec' ? s.cmd : []);
  }

  /** `sh` with stdin: a prompt, each line played as `sh -c line`, until `exit` or the end of stdin. */
  private shell(tty: boolean, nl: string, env?: ProcessEnv): Promise<number> {
    const prompt = () => this.out(tty ? '/ # ' : '');
    prompt();
    return new Promise((resolve) => {
      this.onStdinEnd = () => resolve(0);
      this.onStdin = (chunk) => {
        const text = chunk.toString();
        if (tty) this.out(text.replace(/\r/g, '\r\n')); // a terminal echoes what is typed
        this.stdinLine += text;
        let at: number;
        while ((at = this.stdinLine.search(/[\r\n]/)) >= 0) {
          const line = this.stdinLine.slice(0, at).trim();
          this.stdinLine = this.stdinLine.slice(at + 1);
          if (!line) { prompt(); continue; }
          const plan = planExec(['sh', '-c', line], env);
          for (const l of plan.stdout) this.out(`${l}${nl}`);
          for (const l of plan.stderr) this.err(`${l}${nl}`);
          if (/^exit\b/.test(line)) return resolve(plan.exit?.code ?? 0);
          prompt();
        }
      };
    });
  }

  private finish(code: number, cmd: string[]): void {
    const status = code === 0
      ? { metadata: {}, status: 'Success' }
      : {
        metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
        message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${code}`,
        details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
      };
    const error = this.byType.get('error');
    if (error !== undefined) this.write(dataFrame(error, Buffer.from(JSON.stringify(status))));
    for (const id of this.byType.values()) this.write(dataFrame(id, Buffer.alloc(0), FLAG_FIN));
    void this.writes.then(() => this.end());
  }

  private refusePort(dataStream: string | number): void {
    const requestId = [...this.byType.entries()].find(([, v]) => v === dataStream)?.[0].split(':')[1] ?? '';
    const error = this.byType.get(`error:${requestId}`);
    const ports = (this.session as Extract<StreamSession, { kind: 'portforward' }>).ports;
    if (error !== undefined) this.write(dataFrame(error, Buffer.from(`the simulated runtime runs no processes: nothing listens on port ${ports.join(', ') || 'requested'}`), FLAG_FIN));
    this.write(dataFrame(Number(dataStream), Buffer.alloc(0), FLAG_FIN));
  }

  private write(frame: Buffer): void {
    this.writes = this.writes.then(() => {
      if (!this.ended) this.socket.write(frame);
    });
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.inflate.close();
    this.deflate.close();
    this.socket.end(); // what was written still goes out
  }
}
