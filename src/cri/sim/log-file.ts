// Container log files in the CRI format the kubelet reads (kubectl logs):
//   <RFC3339Nano timestamp> <stdout|stderr> <F = full line | P = partial> <text>
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export function criLogLine(stream: 'stdout' | 'stderr', text: string, at = new Date()): string {
  const stamp = at.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
  return `${stamp} ${stream} F ${text}\n`;
}

/** Creates the log file (and its directory) and appends the given stdout lines. */
export async function appendCriLog(path: string, stdoutLines: string[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, stdoutLines.map((l) => criLogLine('stdout', l)).join(''));
}
