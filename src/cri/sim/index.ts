// The simulated CRI runtime's public face.
export { startSimRuntime, type SimRuntime, type SimRuntimeOptions } from './server.ts';
export { SimState, DEFAULT_RUNTIME_HANDLERS, type SimStateOptions, type RuntimeConditionType } from './state.ts';
export { FaultInjector, CRI_RPC_NAMES, isCriRpcName, type CriRpcName, type FailOptions, type FaultWindow, type LatencyProfile } from './faults.ts';
export { SIM_RUNTIME_NAME } from './runtime-service.ts';
export { normalizeImageRef } from './images.ts';
