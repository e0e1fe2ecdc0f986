// Reading request bodies (JSON or YAML) and writing JSON answers and Status errors.
import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import { ApiError, badRequest, unsupportedMediaType } from './errors.ts';
import { decodeProtobufObject, protobufMediaType } from './protobuf-body.ts';

const maxBodyBytes = 3 * 1024 * 1024; // kube-apiserver's request size limit

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaTypeOf(req: IncomingMessage): string {
  return String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Parses a body as JSON, YAML (application/yaml) or Kubernetes protobuf; what does not parse is a 400. */
export function parseBody(body: Buffer, mediaType: string, what: string): unknown {
  if (mediaType === protobufMediaType) return decodeProtobufObject(body);
  const text = body.toString('utf8');
  if (mediaType === 'application/yaml' || mediaType === 'application/apply-patch+yaml') {
    try {
      const docs = YAML.parseAllDocuments(text);
      if (docs.length !== 1) throw new Error(`expected one YAML document, got ${docs.length}`);
      if (docs[0].errors.length) throw docs[0].errors[0];
      return docs[0].toJS();
    } catch (err) {
      throw badRequest(`${what}: error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (mediaType && mediaType !== 'application/json' && !mediaType.endsWith('+json')) throw unsupportedMediaType(mediaType);
  if (!text.trim()) throw badRequest(`${what}: the request body is empty`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`${what}: json parse error: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.code, err.toStatus());
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
