#!/usr/bin/env node
// Runs the bundle dist/mini-kubelet.mjs when `npm run build` (run by npm ci) left one at least as new as
// every file in src/; otherwise runs the TypeScript sources directly through tsx, so an edited
// checkout never runs stale code.
import './heap-settings.mjs'; // first: before anything allocates
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

function builtAt() {
  try {
    return statSync(join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return -1;
  }
}

function newestSource() {
  let newest = 0;
  for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

if (builtAt() >= newestSource()) {
  await import('../dist/mini-kubelet.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
