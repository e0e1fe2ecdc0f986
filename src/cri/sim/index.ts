// The simulated CRI runtime's public face.
export { startSimRuntime, type SimRuntime, type SimRuntimeOptions } from './server.ts';
export { SimState, DEFAULT_RUNTIME_HANDLERS, type SimStateOptions, type RuntimeConditionType } from './state.ts';
export { FaultInjector, type CriRpcName, type FailOptions, type FaultWindow } from './faults.ts';
export { SIM_RUNTIME_NAME } from './runtime-service.ts';
export { normalizeImageRef } from './images.ts';
