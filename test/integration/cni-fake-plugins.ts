// Fake CNI plugins for tests that need no root (not a test file). One CommonJS script under
// several names: each call is logged (command, CNI_* env, stdin) to calls.jsonl beside it.
//   fake-ip    ADD answers with one IPv4 address on eth0
//   fake-pass  ADD answers with its prevResult (fails without one, like a real chained plugin)
//   fake-fail  ADD fails with CNI error 142
// All speak 0.4.0, 1.0.0 and 1.1.0; STATUS fails with code 50 while a file "unavailable" exists.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SCRIPT = `#!/usr/bin/env node
const fs = require('fs');
const path = require('path');
const type = path.basename(process.argv[1]);
const dir = path.dirname(process.argv[1]);
const stdin = fs.readFileSync(0, 'utf8');
const conf = stdin.trim() ? JSON.parse(stdin) : {};
const cmd = process.env.CNI_COMMAND;
const env = {};
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('CNI_')) env[k] = v;
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify({ type, cmd, env, conf }) + '\\n');
const out = (o) => process.stdout.write(JSON.stringify(o));
const fail = (code, msg) => { out({ cniVersion: conf.cniVersion, code, msg }); process.exit(1); };
if (cmd === 'VERSION') out({ cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0', '1.1.0'] });
else if (cmd === 'ADD' && type === 'fake-ip') out({ cniVersion: conf.cniVersion, interfaces: [{ name: process.env.CNI_IFNAME, sandbox: process.env.CNI_NETNS }], ips: [{ address: '10.9.0.7/24', gateway: '10.9.0.1', interface: 0 }], routes: [{ dst: '0.0.0.0/0' }] });
else if (cmd === 'ADD' && type === 'fake-pass') { if (!conf.prevResult) fail(7, 'no prevResult'); out(conf.prevResult); }
else if (cmd === 'ADD' && type === 'fake-fail') fail(142, 'refusing on purpose');
else if (cmd === 'STATUS' && fs.existsSync(path.join(dir, 'unavailable'))) fail(50, 'not ready yet');
`;

export interface FakeCall {
  type: string;
  cmd: string;
  env: Record<string, string>;
  conf: Record<string, unknown>;
}

export async function installFakePlugins(binDir: string): Promise<{ calls(): Promise<FakeCall[]> }> {
  await mkdir(binDir, { recursive: true });
  for (const type of ['fake-ip', 'fake-pass', 'fake-fail']) {
    await writeFile(join(binDir, type), SCRIPT);
    await chmod(join(binDir, type), 0o755);
  }
  return {
    async calls() {
      const text = await readFile(join(binDir, 'calls.jsonl'), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeCall);
    },
  };
}
