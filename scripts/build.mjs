#!/usr/bin/env node
// Bundles src/cli.ts and its dependencies into dist/mini-kubelet.mjs and the chunks it loads,
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

// client-node's KubeConfig (config.js) imports its generated API's index (gen/index.js: ~1,000
// model classes, ObjectSerializer, every API class, ~5 MB) for two names makeApiClient uses.
// Loading the index runs all of that, tens of MB of the agent's memory, and esbuild must keep
// it (the model modules assign static fields at load). The agent uses KubeConfig and its own
// REST layer (src/agent/api/rest-client.ts), so config.js gets a stand-in index with only those
// two names; the generated API stays in the chunk of the dev API server, which uses the models.
const kubeConfigWithoutGeneratedApi = {
  name: 'kubeconfig-without-generated-api',
  setup(b) {
    b.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) => {
      if (!args.importer.replaceAll('\\', '/').endsWith('/@kubernetes/client-node/dist/config.js')) return undefined;
      return { path: join(dirname(args.importer), 'gen', 'config-names.js'), namespace: 'client-node-config-names' };
    });
    b.onLoad({ filter: /.*/, namespace: 'client-node-config-names' }, (args) => ({
      contents: "export { createConfiguration } from './configuration.js';\nexport { ServerConfiguration } from './servers.js';\n",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
    // config.js and the generated API's HTTP library import undici (~20 MB loaded) for
    // makeApiClient's requests, which the agent never makes: what they name of it (Agent,
    // ProxyAgent, fetch) loads undici on first use.
    b.onResolve({ filter: /^undici$/ }, (args) => {
      const importer = args.importer.replaceAll('\\', '/');
      if (!/\/@kubernetes\/client-node\/dist\/(config|gen\/http\/isomorphic-fetch)\.js$/.test(importer)) return undefined;
      return { path: join(dirname(args.importer), 'lazy-undici.js'), namespace: 'client-node-lazy-undici' };
    });
    b.onLoad({ filter: /.*/, namespace: 'client-node-lazy-undici' }, (args) => ({
      contents: [
        "let undici;",
        "const load = () => (undici ??= require('undici'));",
        "export class Agent { constructor(...args) { return new (load().Agent)(...args); } }",
        "export class ProxyAgent { constructor(...args) { return new (load().ProxyAgent)(...args); } }",
        "export const fetch = (...args) => load().fetch(...args);",
      ].join('\n'),
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

rmSync(dist, { recursive: true, force: true });
await build({
  plugins: [kubeConfigWithoutGeneratedApi],
  entryPoints: { 'mini-kubelet': join(src, 'cli.ts') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  // The code behind each dynamic import() (the agent, the dev API server, the simulated runtime,
  // the test world) goes to chunks of its own, loaded only by the command that uses it: the
  // agent does not hold the dev server's source (and client-node's generated API) in memory.
  // Chunks sit beside the entry, so import.meta.url-relative files (proto/, delegate/) resolve alike.
  splitting: true,
  chunkNames: 'chunk-[hash]',
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
