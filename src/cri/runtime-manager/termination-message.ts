// Termination messages, as the kubelet handles them: before CreateContainer an empty file is
// made under <root-dir>/pods/<uid>/containers/<name>/ and bind-mounted at
// terminationMessagePath; after the container exits, its content (at most 4096 bytes) is the
// message. With FallbackToLogsOnError, a failed container with an empty file reports the tail
// of its log instead (at most 80 lines, 2048 bytes).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MAX_MESSAGE_BYTES = 4096;
const MAX_LOG_LINES = 80;
const MAX_LOG_BYTES = 2048;

export function containerDir(rootDir: string, podUid: string, containerName: string): string {
  return join(rootDir, 'pods', podUid, 'containers', containerName);
}

/** Creates the empty, world-writable message file (any container user must be able to write it). */
export async function createTerminationMessageFile(rootDir: string, podUid: string, containerName: string): Promise<string> {
  const dir = containerDir(rootDir, podUid, containerName);
  await mkdir(dir, { recursive: true });
  const path = join(dir, randomBytes(4).toString('hex'));
  await writeFile(path, '');
  await chmod(path, 0o666);
  return path;
}

export interface TerminationMessageSource {
  /** Host path of the file mounted at terminationMessagePath, if any. */
  messageFile?: string;
  policy: string;
  exitCode: number;
  /** Absolute path of the container's CRI log file. */
  logPath?: string;
}

export async function readTerminationMessage(src: TerminationMessageSource): Promise<string> {
  const message = src.messageFile ? await readHead(src.messageFile, MAX_MESSAGE_BYTES) : '';
  if (message || src.policy !== 'FallbackToLogsOnError' || src.exitCode === 0 || !src.logPath) return message;
  return logTail(src.logPath);
}

async function readHead(path: string, max: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
    const buf = Buffer.alloc(max);
    const { bytesRead } = await handle.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}

/** The last lines of a CRI log file ("<time> <stream> <P|F> <text>" per line), as plain text. */
export async function logTail(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return '';
  }
  let out = '';
  for (const line of text.split('\n').filter(Boolean).slice(-MAX_LOG_LINES)) {
    const parts = line.split(' ');
    // A partial line (tag P) continues on the next record; a full one (F) ends with a newline.
    out += parts.length >= 4 ? parts.slice(3).join(' ') + (parts[2] === 'P' ? '' : '\n') : `${line}\n`;
  }
  const bytes = Buffer.from(out, 'utf8');
  return bytes.length > MAX_LOG_BYTES ? bytes.subarray(bytes.length - MAX_LOG_BYTES).toString('utf8') : out;
}
