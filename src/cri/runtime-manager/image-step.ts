// Ensure a container's image is present, as the kubelet's image manager: the pull policy
// decides whether to pull; pulls in backoff report ImagePullBackOff; pull secrets are tried in
// order. Returns the image id for CreateContainer and the image's user (for runAsNonRoot).
import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { PodSandboxConfig } from '../types.ts';
import { effectivePullPolicy, InvalidImageNameError, parseImageRef } from './image-ref.ts';
import { pullCredentials } from './pull-secrets.ts';
import type { ImageUser } from './security-context.ts';
import { errorMessage, type SyncResultBuilder } from './sync-result.ts';
import { step, type ExecutorDeps } from './executor-deps.ts';
import type { PodRef } from '../../pod/pod-ref.ts';
import { inSpan } from '../../trace/in-span.ts';
import { CONTAINER_NAME, IMAGE_NAME, IMAGE_REF } from '../../trace/span-attributes.ts';

export interface EnsuredImage {
  imageRef: string;
  user: ImageUser;
}

export async function ensureImage(
  deps: ExecutorDeps, ref: PodRef, pod: V1Pod, container: V1Container, sandboxConfig: PodSandboxConfig, runtimeHandler: string,
  getSecret: (namespace: string, name: string) => Promise<V1Secret | undefined>, result: SyncResultBuilder,
): Promise<EnsuredImage | undefined> {
  const image = container.image ?? '';
  const fail = (reason: string, message: string) => {
    result.fail({ step: 'image', reason, message, container: container.name });
    return undefined;
  };

  let parsed;
  try {
    parsed = parseImageRef(image);
  } catch (err) {
    if (!(err instanceof InvalidImageNameError)) throw err;
    result.event('Warning', 'InspectFailed', err.message, container.name);
    return fail('InvalidImageName', err.message);
  }
  const spec = { image: parsed.withDefaultTag, userSpecifiedImage: image, runtimeHandler };
  const policy = effectivePullPolicy(container.imagePullPolicy, parsed);

  let present;
  try {
    present = (await deps.image.imageStatus({ image: spec })).image;
  } catch (err) {
    const message = `Failed to inspect image "${image}": ${errorMessage(err)}`;
    result.event('Warning', 'InspectFailed', message, container.name);
    return fail('ImageInspectError', message);
  }
  if (present && policy !== 'Always') {
    result.event('Normal', 'Pulled', `Container image "${image}" already present on machine`, container.name);
    return { imageRef: present.id, user: userOf(present) };
  }
  if (!present && policy === 'Never') {
    const message = `Container image "${image}" is not present with pull policy of Never`;
    result.event('Warning', 'ErrImageNeverPull', message, container.name);
    return fail('ErrImageNeverPull', message);
  }

  const backoffKey = `${ref.uid}_${image}`;
  const remaining = deps.imageBackoff.remainingNow(backoffKey);
  if (remaining > 0) {
    const message = `Back-off pulling image "${image}"`;
    result.event('Normal', 'BackOff', message, container.name);
    result.retryAfter(remaining);
    return fail('ImagePullBackOff', message);
  }

  result.event('Normal', 'Pulling', `Pulling image "${image}"`, container.name);
  const started = performance.now();
  const credentials = await pullCredentials(pod, parsed.registry, getSecret);
  let lastError: unknown;
  for (const auth of credentials.length ? credentials : [undefined]) {
    try {
      const { imageRef } = await inSpan('PullImage', { [IMAGE_NAME]: image, [CONTAINER_NAME]: container.name }, () => step(deps, ref, 'pull', container.name, () =>
        deps.image.pullImage({ image: spec, ...(auth ? { auth } : {}), sandboxConfig })), (r) => ({ [IMAGE_REF]: r.imageRef }));
      const seconds = ((performance.now() - started) / 1000).toFixed(3);
      const status = (await deps.image.imageStatus({ image: spec })).image;
      const size = status ? ` Image size: ${status.size} bytes.` : '';
      result.event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${seconds}s (${seconds}s including waiting).${size}`, container.name);
      return { imageRef: imageRef || status?.id || parsed.withDefaultTag, user: status ? userOf(status) : { username: '' } };
    } catch (err) {
      lastError = err;
    }
  }
  deps.imageBackoff.next(backoffKey);
  result.retryAfter(deps.imageBackoff.remainingNow(backoffKey));
  const message = `Failed to pull image "${image}": ${errorMessage(lastError)}`;
  result.event('Warning', 'Failed', message, container.name);
  result.event('Warning', 'Failed', 'Error: ErrImagePull', container.name);
  return fail('ErrImagePull', message);
}

function userOf(image: { uid: { value: number } | null; username: string }): ImageUser {
  return image.uid ? { uid: Number(image.uid.value), username: image.username } : { username: image.username };
}
