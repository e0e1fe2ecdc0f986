// The SPDY/3.1 client session the dev control plane speaks to a node: frames as the spec lays them
// out, header blocks a zlib reader takes, data routed to its stream, PINGs answered, FIN and
// RST_STREAM ending a stream, GOAWAY ending the session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { createInflate, constants } from 'node:zlib';
import { SpdyClientSession } from '../../src/apiserver/spdy-session.ts';

/** A socket whose writes are collected; `feed` plays the peer. */
function fakeSocket() {
  const written: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk, _enc, cb) { written.push(Buffer.from(chunk)); cb(); },
  });
  return { socket, written, feed: (b: Buffer) => socket.emit('data', b) };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

function frames(bytes: Buffer): Array<{ control: boolean; type?: number; id?: number; flags: number; body: Buffer }> {
  const out = [];
  let rest = bytes;
  while (rest.length >= 8) {
    const length = rest.readUIntBE(5, 3);
    const control = (rest[0]! & 0x80) !== 0;
    out.push({ control, ...(control ? { type: rest.readUInt16BE(2) } : { id: rest.readUInt32BE(0) }), flags: rest[4]!, body: rest.subarray(8, 8 + length) });
    rest = rest.subarray(8 + length);
  }
  return out;
}

/** Inflates header blocks in order, with one zlib stream, as the peer does. */
async function headerBlocks(blocks: Buffer[]): Promise<Array<Record<string, string>>> {
  const inflate = createInflate();
  const out: Array<Record<string, string>> = [];
  for (const block of blocks) {
    const plain: Buffer = await new Promise((resolve) => {
      const parts: Buffer[] = [];
      const on = (b: Buffer) => parts.push(b);
      inflate.on('data', on);
      inflate.write(block);
      inflate.flush(constants.Z_SYNC_FLUSH, () => { inflate.off('data', on); resolve(Buffer.concat(parts)); });
    });
    const pairs: Record<string, string> = {};
    let at = 4;
    for (let i = 0; i < plain.readUInt32BE(0); i++) {
      const nl = plain.readUInt32BE(at); const name = plain.subarray(at + 4, at + 4 + nl).toString(); at += 4 + nl;
      const vl = plain.readUInt32BE(at); const value = plain.subarray(at + 4, at + 4 + vl).toString(); at += 4 + vl;
      pairs[name] = value;
    }
    out.push(pairs);
  }
  return out;
}

test('streams open with SYN_STREAM (odd ids, lower-case header names in one zlib stream); data and FIN follow', async () => {
  const { socket, written } = fakeSocket();
  const session = new SpdyClientSession(socket, () => {});
  const a = session.open({ streamType: 'error' }, { data() {}, end() {} });
  const b = session.open({ streamType: 'stdin' }, { data() {}, end() {} });
  session.send(b, Buffer.from('hello'));
  session.send(b, Buffer.alloc(0), true);
  await settle();
  const got = frames(Buffer.concat(written));
  assert.deepEqual([a, b], [1, 3]);
  assert.deepEqual(got.map((f) => (f.control ? `ctl${f.type}` : `data${f.id}:${f.body.toString()}:${f.flags}`)), ['ctl1', 'ctl1', 'data3:hello:0', 'data3::1']);
  assert.equal(Buffer.concat(written)[1], 3, 'version 3');
  assert.deepEqual(got.slice(0, 2).map((f) => f.body.readUInt32BE(0)), [1, 3]);
  assert.deepEqual(await headerBlocks(got.slice(0, 2).map((f) => f.body.subarray(10))), [{ streamtype: 'error' }, { streamtype: 'stdin' }]);
  session.close();
});

test('the peer\'s data reaches its stream; FIN and RST_STREAM end streams; PING is answered; GOAWAY closes', async () => {
  const { socket, written, feed } = fakeSocket();
  let closed = false;
  const session = new SpdyClientSession(socket, () => { closed = true; });
  const seen: string[] = [];
  const id = session.open({ streamType: 'stdout' }, { data: (b) => seen.push(b.toString()), end: () => seen.push('end') });
  const other = session.open({ streamType: 'stderr' }, { data: () => {}, end: () => seen.push('other-end') });
  const data = (sid: number, text: string, flags = 0) => {
    const f = Buffer.alloc(8 + text.length); f.writeUInt32BE(sid, 0); f[4] = flags; f.writeUIntBE(text.length, 5, 3); f.write(text, 8); return f;
  };
  const control = (type: number, body: Buffer) => { const f = Buffer.alloc(8); f.writeUInt16BE(0x8003, 0); f.writeUInt16BE(type, 2); f.writeUIntBE(body.length, 5, 3); return Buffer.concat([f, body]); };
  const both = Buffer.concat([data(id, 'out-1'), data(id, 'out-2', 1)]);
  feed(both.subarray(0, 5)); // frames may arrive split anywhere
  feed(both.subarray(5));
  const rst = Buffer.alloc(8); rst.writeUInt32BE(other, 0); rst.writeUInt32BE(5, 4);
  feed(control(3, rst));
  const pingBody = Buffer.from([0, 0, 0, 7]);
  feed(control(6, pingBody));
  await settle();
  assert.deepEqual(seen, ['out-1', 'out-2', 'end', 'other-end']);
  const ping = frames(Buffer.concat(written)).find((f) => f.control && f.type === 6);
  assert.deepEqual(ping?.body, pingBody, 'PING answered with its id');
  feed(control(7, Buffer.alloc(8)));
  assert.equal(closed, true);
});
