// SPDY/3.1 framing, the part both ends of a kubectl stream share: the dev control plane speaks it as
// a client to nodes, the simulated runtime's streaming server as a server. A frame is 8 bytes of
// head (control bit and version, or a stream id; flags; a 24-bit length) and its body. Header
// blocks are name/value lists, compressed with one zlib stream per direction of a session. What we
// send uses no preset dictionary (the zlib header says so, and readers then need none); what we
// read must not either: the only peers here are our own.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
/** The control frame types a kubectl stream uses (SETTINGS and WINDOW_UPDATE are read and let be). */
export const Control = { SynStream: 1, SynReply: 2, RstStream: 3, Settings: 4, Ping: 6, GoAway: 7, Headers: 8, WindowUpdate: 9 } as const;

export type Frame =
  | { control: true; type: number; flags: number; body: Buffer }
  | { control: false; streamId: number; flags: number; body: Buffer };

export function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([head, body]);
}

export function dataFrame(streamId: number, data: Buffer, flags = 0): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

/** A stream id in the first four bytes of a control frame's body (SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS). */
export const streamIdOf = (body: Buffer): number => body.readUInt32BE(0) & 0x7fffffff;

/** Cuts a byte stream into frames, however the bytes arrive. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.pending.length >= 8) {
      const length = this.pending.readUIntBE(5, 3);
      if (this.pending.length < 8 + length) break;
      const head = this.pending;
      const body = head.subarray(8, 8 + length);
      frames.push((head[0]! & 0x80) !== 0
        ? { control: true, type: head.readUInt16BE(2), flags: head[4]!, body }
        : { control: false, streamId: head.readUInt32BE(0) & 0x7fffffff, flags: head[4]!, body });
      this.pending = head.subarray(8 + length);
    }
    return frames;
  }
}

/** The uncompressed name/value block: a count, then length-prefixed names (lower case) and values. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  parts.push(u32(Object.keys(headers).length));
  for (const [name, value] of Object.entries(headers)) {
    for (const text of [name.toLowerCase(), value]) {
      const bytes = Buffer.from(text, 'utf8');
      parts.push(u32(bytes.length), bytes);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(plain: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 4;
  const next = () => {
    const length = plain.readUInt32BE(at);
    const text = plain.subarray(at + 4, at + 4 + length).toString('utf8');
    at += 4 + length;
    return text;
  };
  for (let i = plain.readUInt32BE(0); i > 0; i--) headers[next()] = next();
  return headers;
}

/** One direction's header compression: blocks in order, each ended with a sync flush. */
export class HeaderCompressor {
  private readonly deflate: Deflate = createDeflate();

  compress(block: Buffer): Promise<Buffer> {
    return flushThrough(this.deflate, block);
  }

  close(): void {
    this.deflate.close();
  }
}

export class HeaderDecompressor {
  private readonly inflate: Inflate = createInflate();

  decompress(block: Buffer): Promise<Buffer> {
    return flushThrough(this.inflate, block);
  }

  close(): void {
    this.inflate.close();
  }
}

function flushThrough(z: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const collect = (b: Buffer) => out.push(b);
    const fail = (err: Error) => {
      z.off('data', collect);
      reject(err);
    };
    z.on('data', collect);
    z.once('error', fail);
    z.write(input);
    z.flush(constants.Z_SYNC_FLUSH, () => {
      z.off('data', collect);
      z.off('error', fail);
      resolve(Buffer.concat(out));
    });
  });
}
