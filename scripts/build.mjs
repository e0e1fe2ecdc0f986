#!/usr/bin/env node
// Bundles src/cli.ts and its dependencies into one JavaScript file, dist/mini-kubelet.mjs,
// with esbuild, and puts the files read at run time (.proto files, the CNI delegate) beside it.
// Why: Node keeps a module record for every file it loads, and client-node alone is ~2,700
// files; one bundle halves the agent's memory, and plain JavaScript needs no TypeScript loader
// at start. The bin runs the bundle when it is at least as new as src/, else src/ through tsx.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [join(src, 'cli.ts')],
  outfile: join(dist, 'mini-kubelet.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  // Without whitespace and comments the source V8 keeps in memory is smaller, and pure ASCII
  // (one byte a character instead of two: a few comments in dependencies are not ASCII).
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies inside an ES module bundle still call require() and read __dirname.
  banner: {
    js: [
      "import { createRequire as __bundleRequire } from 'node:module';",
      "import { dirname as __bundleDirname } from 'node:path';",
      "import { fileURLToPath as __bundlePath } from 'node:url';",
      'const require = __bundleRequire(import.meta.url);',
      'const __filename = __bundlePath(import.meta.url);',
      'const __dirname = __bundleDirname(__filename);',
    ].join('\n'),
  },
});

// The sources find these files with new URL('./proto/X' or './delegate/X', import.meta.url);
// inside the bundle import.meta.url is dist/mini-kubelet.mjs, so they go to dist/proto and dist/delegate.
// A .proto may sit deeper below its proto/ folder (proto/grpc/health/v1/health.proto): the path
// below proto/ is kept.
const copied = new Map();
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const from = join(entry.parentPath, entry.name);
  const parts = relative(src, from).split(sep);
  const protoAt = parts.lastIndexOf('proto', parts.length - 2);
  let to;
  if (protoAt >= 0 && entry.name.endsWith('.proto')) to = join(dist, ...parts.slice(protoAt));
  else if (basename(entry.parentPath) === 'delegate' && entry.name.endsWith('.mjs')) to = join(dist, 'delegate', entry.name);
  else continue;
  if (copied.has(to)) throw new Error(`build: ${from} and ${copied.get(to)} would both be ${to}`);
  copied.set(to, from);
  cpSync(from, to);
}
// Written last: its mtime is what the bin compares with src/.
writeFileSync(join(dist, '.built'), `${new Date().toISOString()}\n`);
