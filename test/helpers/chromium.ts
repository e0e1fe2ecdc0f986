// Headless Chromium driven by its own command line (no Playwright): --dump-dom for the DOM it
// rendered, --screenshot for a PNG. Each run gets a fresh profile and no network chatter, and
// a deadline. Without /usr/bin/chromium (scripts/provision.sh installs Debian's) a test skips,
// except under CI=true, where a skip would hide a broken page.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const chromiumBin = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Call first in a browser test; false when it was skipped. */
export function requireChromium(t: TestContext): boolean {
  if (existsSync(chromiumBin)) return true;
  if (process.env.CI === 'true') throw new Error(`${chromiumBin} is missing, and CI=true forbids skipping the browser test (scripts/provision.sh installs it)`);
  t.skip(`${chromiumBin} not installed (scripts/provision.sh installs Debian's chromium)`);
  return false;
}

async function chromium(args: string[], timeoutMs: number): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'mk-chromium-'));
  try {
    const { stdout } = await execFileAsync(chromiumBin, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`, ...args,
    ], { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, killSignal: 'SIGKILL' });
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM after Chromium rendered `url` (file:// or http://). */
export function dumpDom(url: string, timeoutMs = 60_000): Promise<string> {
  return chromium(['--dump-dom', url], timeoutMs);
}

/** A PNG of `url` at 1400x900; resolves with its bytes. */
export async function screenshot(url: string, file: string, timeoutMs = 60_000): Promise<Buffer> {
  await chromium([`--screenshot=${file}`, '--window-size=1400,900', '--hide-scrollbars', url], timeoutMs);
  return readFileSync(file);
}

/** Width and height from a PNG's IHDR, or undefined when the bytes are not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Text of the DOM without tags (entities for <, >, & left as Chromium wrote them). */
export function domText(dom: string): string {
  return dom.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}
