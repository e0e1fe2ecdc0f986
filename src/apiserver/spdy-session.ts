// The client end of an SPDY/3.1 session, as much of it as a kubectl stream needs: open streams with
// headers (SYN_STREAM), send data and half-close them (DATA, FIN), read the peer's data per stream,
// answer PINGs. kube-apiserver speaks exactly this to a kubelet when it translates a WebSocket exec
// into SPDY (the kubelet and the CRI streaming servers speak no WebSocket v5). The frames are in
// src/util/spdy-frames.ts; the peer's header blocks are never read: nothing here needs them.
import type { Duplex } from 'node:stream';
import {
  Control, controlFrame, dataFrame, encodeHeaderBlock, FLAG_FIN, FrameReader, HeaderCompressor, streamIdOf, type Frame,
} from '../util/spdy-frames.ts';

export interface SpdyStreamEvents {
  data(chunk: Buffer): void;
  /** The peer half-closed the stream (FIN) or reset it. */
  end(): void;
}

export class SpdyClientSession {
  private nextId = 1;
  private readonly streams = new Map<number, SpdyStreamEvents>();
  private readonly reader = new FrameReader();
  private readonly headers = new HeaderCompressor();
  /** Header blocks are compressed in order, one zlib stream for the session: frames wait their turn. */
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly socket: Duplex, private readonly onClose: () => void) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => this.close());
    socket.on('error', () => this.close());
  }

  /** Feeds bytes from the peer (also those that arrived with the 101 response head). */
  receive(chunk: Buffer): void {
    for (const frame of this.reader.push(chunk)) this.frame(frame);
  }

  /** Opens a stream with these headers; returns its id (odd: the client's). */
  open(headers: Record<string, string>, events: SpdyStreamEvents): number {
    const id = this.nextId;
    this.nextId += 2;
    this.streams.set(id, events);
    const block = encodeHeaderBlock(headers);
    this.queue(async () => {
      const compressed = await this.headers.compress(block);
      const body = Buffer.alloc(10); // stream id, no associated stream, priority 0, slot 0
      body.writeUInt32BE(id, 0);
      return controlFrame(Control.SynStream, 0, Buffer.concat([body, compressed]));
    });
    return id;
  }

  /** Sends data on a stream, or half-closes it with `fin`. */
  send(id: number, data: Buffer, fin = false): void {
    this.queue(() => dataFrame(id, data, fin ? FLAG_FIN : 0));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.end();
    this.streams.clear();
    this.headers.close();
    this.socket.destroy();
    this.onClose();
  }

  private queue(make: () => Buffer | Promise<Buffer>): void {
    this.writes = this.writes.then(make).then((frame) => {
      if (!this.closed) this.socket.write(frame);
    }, () => this.close());
  }

  private frame(frame: Frame): void {
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId);
      if (!stream) return;
      if (frame.body.length) stream.data(frame.body);
      if (frame.flags & FLAG_FIN) this.finish(frame.streamId);
      return;
    }
    switch (frame.type) {
      case Control.SynReply:
      case Control.Headers:
        if (frame.flags & FLAG_FIN) this.finish(streamIdOf(frame.body));
        return;
      case Control.RstStream:
        this.finish(streamIdOf(frame.body));
        return;
      case Control.Ping:
        this.queue(() => controlFrame(Control.Ping, 0, frame.body));
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
