// The device manager's checkpoint: allocations and registered devices in a JSON file in the
// device plugin directory, with a checksum so a torn or hand-edited file is detected rather
// than trusted. After a restart it keeps the agent from giving one device to two pods.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { DeviceAllocation } from './allocation-ledger.ts';

/** Same file name as the kubelet's, so operators find it where they expect. */
export const CHECKPOINT_FILE_NAME = 'kubelet_internal_checkpoint';

export interface CheckpointData {
  allocations: DeviceAllocation[];
  /** Resource → every device ID the plugin last announced. */
  registeredDevices: Record<string, string[]>;
}

interface CheckpointFile {
  version: 1;
  data: CheckpointData;
  checksum: string;
}

function checksumOf(data: CheckpointData): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(data)).digest('hex')}`;
}

export function encodeCheckpoint(data: CheckpointData): string {
  const file: CheckpointFile = { version: 1, data, checksum: checksumOf(data) };
  return JSON.stringify(file, null, 1);
}

export type CheckpointReadResult = { ok: true; data: CheckpointData } | { ok: false; error: string };

const empty = (): CheckpointData => ({ allocations: [], registeredDevices: {} });

export function decodeCheckpoint(text: string): CheckpointReadResult {
  let parsed: Partial<CheckpointFile>;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `checkpoint is not JSON: ${(err as Error).message}` };
  }
  const data = parsed?.data;
  if (parsed?.version !== 1 || !data || !Array.isArray(data.allocations) || typeof data.registeredDevices !== 'object') {
    return { ok: false, error: 'checkpoint has an unknown layout' };
  }
  if (parsed.checksum !== checksumOf(data)) return { ok: false, error: 'checkpoint checksum mismatch: the file is corrupt' };
  return { ok: true, data };
}

/** A missing file is a fresh start, not an error. */
export async function readCheckpoint(path: string): Promise<CheckpointReadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, data: empty() };
    return { ok: false, error: `cannot read checkpoint: ${(err as Error).message}` };
  }
  return decodeCheckpoint(text);
}

/** Write-then-rename, so a crash mid-write leaves the previous checkpoint intact. */
export async function writeCheckpoint(path: string, data: CheckpointData): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, encodeCheckpoint(data), { mode: 0o600 });
  await rename(tmp, path);
}
