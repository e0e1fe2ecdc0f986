// A configuration mistake the user must fix: names the flag or config field at fault.
// The CLI turns it into a message and exit code 2, as the kubelet does for bad flags.
export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}
