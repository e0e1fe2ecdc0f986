#!/usr/bin/env node
// Compiles src/ to plain JavaScript in dist/ (tsc, then the files tsc does not emit: the CNI
// delegate's .mjs and the .proto files). The bin runs dist/ when it is at least as new as src/:
// an agent started from JavaScript needs no TypeScript loader, which saves it about half its
// memory and several CPU seconds at start. Without a fresh dist/ the bin runs src/ through tsx.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  console.error('build: tsc failed; the bin will run src/ through tsx');
  process.exit(1);
}
for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(mjs|proto)$/.test(entry.name)) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(dist, from.slice(join(root, 'src').length)));
}
// Written last: its mtime is what the bin compares with src/.
writeFileSync(join(dist, '.built'), `${new Date().toISOString()}\n`);
