// Whether @kubernetes/client-node can load on this Node, and loading it when it can.
// client-node 2.x depends on undici, and undici 8 needs Node >= 22.19: importing it on an
// older Node fails with a stray unhandled rejection that no try/catch can absorb. So the
// installed undici's engines field is checked first, and the import only tried when it fits.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ClientNode = typeof import('@kubernetes/client-node');

function versionParts(v: string): number[] {
  return v.replace(/^v/, '').split('.').map((p) => Number.parseInt(p, 10) || 0);
}

function atLeast(actual: string, wanted: string): boolean {
  const a = versionParts(actual);
  const w = versionParts(wanted);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (w[i] ?? 0)) return (a[i] ?? 0) > (w[i] ?? 0);
  return true;
}

/** Why client-node cannot load here, or undefined when it can. */
export function clientNodeProblem(): string | undefined {
  try {
    const clientEntry = fileURLToPath(import.meta.resolve('@kubernetes/client-node'));
    const undiciEntry = createRequire(clientEntry).resolve('undici');
    const pkg = JSON.parse(readFileSync(join(dirname(undiciEntry), 'package.json'), 'utf8')) as { version?: string; engines?: { node?: string } };
    const minimum = pkg.engines?.node?.match(/^>=\s*v?(\d+(\.\d+){0,2})$/)?.[1];
    if (minimum && !atLeast(process.versions.node, minimum)) {
      return `its undici ${pkg.version} needs Node >= ${minimum}, this is Node ${process.versions.node}`;
    }
    return undefined;
  } catch (err) {
    return `cannot resolve it: ${(err as Error).message}`;
  }
}

export async function loadClientNode(): Promise<{ clientNode?: ClientNode; problem?: string }> {
  const problem = clientNodeProblem();
  if (problem) return { problem };
  try {
    return { clientNode: await import('@kubernetes/client-node') };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}
