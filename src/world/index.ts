// The test world's public face: start one (startTestWorld), reap worlds whose owner died,
// and measure the raw CRI floor against one (measureCriFloor).
export { startTestWorld, reapAbandonedWorlds, type TestWorld, type TestWorldOptions, type RuntimeHandlerName } from './test-world.ts';
export { measureCriFloor, type CriFloorOptions, type CriFloorResult } from './bench-floor.ts';
export type { BridgeNetwork } from './cni-config.ts';
export { mountsUnder, shimPidsOf } from './teardown.ts';
export { pidAlive } from './daemon.ts';
export { waitFor } from './wait.ts';
