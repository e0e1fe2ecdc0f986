// The client end of an SPDY/3.1 session, as much of it as a kubectl stream needs: open streams with
// headers (SYN_STREAM), send data and half-close them (DATA, FIN), read the peer's data per stream,
// answer PINGs. kube-apiserver speaks exactly this to a kubelet when it translates a WebSocket exec
// into SPDY (the kubelet and the CRI streaming servers speak no WebSocket v5). Header blocks are
// zlib streams; ours carry no preset dictionary, which the zlib format says in its header, so the
// peer's reader needs none either. The peer's header blocks are never read: nothing here needs them.
import { constants, createDeflate, type Deflate } from 'node:zlib';
import type { Duplex } from 'node:stream';

const VERSION = 3;
const FLAG_FIN = 0x01;
/** The control frame types this session acts on (SETTINGS, WINDOW_UPDATE and others are read and let be). */
const Control = { SynStream: 1, SynReply: 2, RstStream: 3, Ping: 6, GoAway: 7, Headers: 8 } as const;

export interface SpdyStreamEvents {
  data(chunk: Buffer): void;
  /** The peer half-closed the stream (FIN) or reset it. */
  end(): void;
}

export class SpdyClientSession {
  private nextId = 1;
  private readonly streams = new Map<number, SpdyStreamEvents>();
  private readonly deflate: Deflate = createDeflate();
  private pending: Buffer = Buffer.alloc(0);
  /** Header blocks are compressed in order, one zlib stream for the session: frames wait their turn. */
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly socket: Duplex, private readonly onClose: () => void) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
  }

  /** Feeds bytes that arrived before the session was set up (after the 101 response head). */
  receive(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const length = this.pending.readUIntBE(5, 3);
      if (this.pending.length < 8 + length) return;
      const frame = this.pending.subarray(0, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      this.frame(frame);
    }
  }

  /** Opens a stream with these headers; returns its id. */
  open(headers: Record<string, string>, events: SpdyStreamEvents): number {
    const id = this.nextId;
    this.nextId += 2;
    this.streams.set(id, events);
    const block = headerBlock(headers);
    this.writes = this.writes.then(async () => {
      const compressed = await this.compress(block);
      const body = Buffer.alloc(10);
      body.writeUInt32BE(id & 0x7fffffff, 0);
      body.writeUInt32BE(0, 4); // no associated stream
      body.writeUInt8(0, 8); // priority 0
      body.writeUInt8(0, 9); // slot
      this.write(controlFrame(Control.SynStream, 0, Buffer.concat([body, compressed])));
    });
    return id;
  }

  /** Sends data on a stream, or half-closes it with `fin`. */
  send(id: number, data: Buffer, fin = false): void {
    this.writes = this.writes.then(() => this.write(dataFrame(id, data, fin ? FLAG_FIN : 0)));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.end();
    this.streams.clear();
    this.deflate.close();
    this.socket.destroy();
    this.onClose();
  }

  private write(frame: Buffer): void {
    if (!this.closed) this.socket.write(frame);
  }

  private compress(block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const collect = (b: Buffer) => out.push(b);
      this.deflate.on('data', collect);
      this.deflate.write(block);
      this.deflate.flush(constants.Z_SYNC_FLUSH, () => {
        this.deflate.off('data', collect);
        resolve(Buffer.concat(out));
      });
      this.deflate.once('error', reject);
    });
  }

  private frame(frame: Buffer): void {
    const control = (frame[0]! & 0x80) !== 0;
    const flags = frame[4]!;
    const body = frame.subarray(8);
    if (!control) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const stream = this.streams.get(id);
      if (!stream) return;
      if (body.length) stream.data(body);
      if (flags & FLAG_FIN) this.finish(id);
      return;
    }
    const type = frame.readUInt16BE(2);
    switch (type) {
      case Control.SynReply:
      case Control.Headers:
        if (flags & FLAG_FIN) this.finish(body.readUInt32BE(0) & 0x7fffffff);
        return;
      case Control.RstStream:
        this.finish(body.readUInt32BE(0) & 0x7fffffff);
        return;
      case Control.Ping:
        this.writes = this.writes.then(() => this.write(controlFrame(Control.Ping, 0, body)));
        return;
      case Control.GoAway:
        this.close();
        return;
      default: // SETTINGS, WINDOW_UPDATE, and what a peer may add: nothing to do here.
    }
  }

  private finish(id: number): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.streams.delete(id);
    stream.end();
  }
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([head, body]);
}

function dataFrame(id: number, data: Buffer, flags: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(id & 0x7fffffff, 0);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

/** The uncompressed name/value block: a count, then length-prefixed names (lower case) and values. */
function headerBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(Object.keys(headers).length, 0);
  parts.push(count);
  for (const [name, value] of Object.entries(headers)) {
    for (const text of [name.toLowerCase(), value]) {
      const bytes = Buffer.from(text, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(bytes.length, 0);
      parts.push(len, bytes);
    }
  }
  return Buffer.concat(parts);
}
