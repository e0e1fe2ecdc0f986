// Errors of the volume room carry the volume and plugin they concern, and read like the kubelet's
// FailedMount events (`MountVolume.SetUp failed for volume "x" : ...`) so that they can be
// searched for as kubelet messages are.
import { VolumeSetupError } from './pod-volumes.ts';

/** A volume-level problem (missing object, failed hostPath check, ...), before it is tied to a volume. */
export class VolumeContentError extends Error {}

export class VolumeSetupFailure extends VolumeSetupError {
  constructor(readonly volume: string, readonly plugin: string, detail: string, cause?: unknown) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${detail}`, { cause });
  }
}

/** Wraps whatever setting up one volume threw; messages of our own errors stay as they are. */
export function setUpFailed(volume: string, plugin: string, err: unknown): VolumeSetupFailure {
  if (err instanceof VolumeSetupFailure) return err;
  const detail = err instanceof VolumeContentError ? err.message : `${plugin}: ${err instanceof Error ? err.message : String(err)}`;
  return new VolumeSetupFailure(volume, plugin, detail, err);
}
