// Types of protocol.mjs for the TypeScript side (the agent).
export declare const DEFAULT_AGENT_SOCKET: string;
export declare const DELEGATE_SUPPORTED_VERSIONS: string[];
export declare const FORWARDED_ENV: string[];
export declare function addedNotePath(socketPath: string, containerId: string, ifName: string): string;
export declare function pendingDelDir(socketPath: string): string;
export declare function pendingDelNotePath(socketPath: string, containerId: string, ifName: string): string;

/** What the delegate sends. */
export interface DelegateRequest {
  env: Record<string, string>;
  config: string;
}

/** What the agent answers: the plugin's exit code and stdout, as the runtime must see them. */
export interface DelegateResponse {
  exitCode: number;
  stdout: string;
}
