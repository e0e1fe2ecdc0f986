// The checkout's manifests/: the nearest one above the calling module (a file under src/ or
// the dist/ bundle), so the commands find the YAML they apply wherever they run from.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findManifestsDir(moduleUrl: string): string {
  for (let dir = dirname(fileURLToPath(moduleUrl)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'manifests', 'runtimeclasses.yaml'))) return join(dir, 'manifests');
    if (dirname(dir) === dir) throw new Error('manifests/ not found above the mini-kubelet sources');
  }
}
