#!/usr/bin/env node
// `npm test`: typecheck, then the unit, integration and e2e layers on node's test runner.
// As root the e2e layer provisions the real test world (apt packages, containerd, registry);
// without root it is skipped and says so. With CI=true an e2e test may not skip (see
// test/helpers/e2e.ts), so a CI run always exercises real containerd.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const layers = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration', 'e2e'];
const isRoot = process.getuid?.() === 0;
const ci = process.env.CI === 'true';

function filesOf(dir) {
  const out = [];
  let entries = [];
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesOf(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

if (!process.argv.slice(2).length) {
  console.log('== typecheck');
  if (run('npx', ['tsc', '--noEmit', '-p', '.']) !== 0) process.exit(1);
}
// The agent processes that tests start run the bundle in dist/, as users' do: build it fresh.
console.log('== build: scripts/build.mjs');
if (run(process.execPath, ['scripts/build.mjs']) !== 0) process.exit(1);

if (layers.includes('e2e')) {
  if (isRoot) {
    console.log('== provisioning the test world (root): scripts/provision.sh');
    if (run('bash', ['scripts/provision.sh']) !== 0) process.exit(1);
  } else if (ci) {
    console.error('CI=true but not root: the e2e layer cannot run, and CI may not skip it.');
    process.exit(1);
  } else {
    console.log('== e2e: not root, so the real test world (containerd, registry, CNI) is skipped.');
  }
}

// The timeline page's browser tests (test/helpers/chromium.ts) run when Chromium is installed
// (provision.sh installs it as root); with CI=true they may not skip, so say so up front.
if (existsSync('/usr/bin/chromium')) console.log('== browser tests: /usr/bin/chromium present, the timeline page is rendered headless');
else if (ci && (layers.includes('integration') || layers.includes('e2e'))) {
  console.error('CI=true but /usr/bin/chromium is missing: the browser tests cannot run, and CI may not skip them (scripts/provision.sh installs it).');
  process.exit(1);
} else console.log('== browser tests: /usr/bin/chromium missing, they skip (scripts/provision.sh installs it as root)');

let failed = false;
for (const layer of layers) {
  const files = filesOf(join('test', layer));
  if (!files.length) continue;
  console.log(`== ${layer}: ${files.length} file(s)`);
  // e2e files each start a containerd of their own: run them one at a time on 2 cores.
  const concurrency = layer === 'e2e' ? '1' : '2';
  const code = run(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { MINI_KUBELET_TEST_LAYER: layer });
  if (code !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
