// Typed errors of the CNI library. A bad configuration names its file and field so the user
// can fix it before any pod fails; a plugin failure carries the CNI error (code, msg, details).

/** Well-known CNI error codes (spec "Error" section); 100 and up belong to plugins. */
export const CniErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  containerUnknown: 3,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  pluginNotAvailable: 50,
  limitedConnectivity: 51,
} as const;

/** A network configuration file is unreadable or invalid. */
export class CniConfigError extends Error {
  override name = 'CniConfigError';
  constructor(
    readonly file: string,
    /** JSON path of the offending field, e.g. "plugins[1].type"; empty for the whole file. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(field ? `${file}: field "${field}": ${problem}` : `${file}: ${problem}`);
  }
}

/** A plugin (or the delegate's agent) answered with a CNI error, or could not be run. */
export class CniPluginError extends Error {
  override name = 'CniPluginError';
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly details = '',
    /** The plugin type (binary name) that failed, when known. */
    readonly plugin = '',
  ) {
    super(`${plugin ? `plugin ${plugin}: ` : ''}${msg}${details ? ` (${details})` : ''} [CNI code ${code}]`);
  }

  /** The JSON error object the spec puts on a plugin's stdout. */
  toCniJson(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.msg, ...(this.details ? { details: this.details } : {}) };
  }
}
