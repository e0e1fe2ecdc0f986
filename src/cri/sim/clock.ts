// Ids and timestamps the way containerd hands them out.
import { randomBytes } from 'node:crypto';

/** A container/sandbox id: 64 lowercase hex characters. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

let lastNs = 0;

/** Nanoseconds since the epoch, strictly increasing. Consecutive objects must not tie on
 * created_at (the kubelet orders by it), and a double near 1.8e18 only resolves 256 ns, so
 * each reading moves on by at least 1 us. */
export function nowNs(): number {
  const wall = Date.now() * 1e6 + Math.floor((performance.now() % 1) * 1e6);
  lastNs = Math.max(wall, lastNs + 1000);
  return lastNs;
}
