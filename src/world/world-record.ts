// A record per running world in a shared directory, naming its owner process. A world whose
// owner was killed (SIGKILL, a crashed test runner) leaves daemons, shims, mounts and a bridge
// behind; the next world to start finds its record and reaps it.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { assertWorldRoot, type WorldResources } from './teardown.ts';

export interface WorldRecord extends WorldResources {
  ownerPid: number;
  /** The owner's start time (clock ticks since boot), so a reused pid is not taken for it. */
  ownerStart: string;
}

export function worldRecordDir(): string {
  return process.env.MINI_KUBELET_WORLD_RECORDS ?? join(tmpdir(), 'mini-kubelet-worlds');
}

/** Field 22 of /proc/PID/stat; undefined when the process does not exist. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Named by the bridge when there is one, so the record also reserves the bridge name. */
const recordPath = (w: WorldResources) => join(worldRecordDir(), `${w.bridge ?? basename(w.root)}.json`);

/** Writes the record unless one of that name exists (another world holds the bridge name). */
export function claimWorldRecord(resources: WorldResources): boolean {
  mkdirSync(worldRecordDir(), { recursive: true });
  const record: WorldRecord = { ...resources, ownerPid: process.pid, ownerStart: processStartTime(process.pid) ?? '' };
  try {
    writeFileSync(recordPath(resources), JSON.stringify(record), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export function removeWorldRecord(resources: WorldResources): void {
  rmSync(recordPath(resources), { force: true });
}

/** Records whose owner process is gone. */
export function abandonedWorlds(): Array<WorldRecord & { recordFile: string }> {
  let names: string[];
  try {
    names = readdirSync(worldRecordDir());
  } catch {
    return [];
  }
  const out: Array<WorldRecord & { recordFile: string }> = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const recordFile = join(worldRecordDir(), name);
    try {
      const record = JSON.parse(readFileSync(recordFile, 'utf8')) as WorldRecord;
      assertWorldRoot(record.root);
      if (processStartTime(record.ownerPid) !== record.ownerStart) out.push({ ...record, recordFile });
    } catch {
      // a record being written right now, or garbage: leave it
    }
  }
  return out;
}
