// ImageService of the simulated runtime. Pulls are instant; which names can be pulled is the
// sim's pullable policy. Every pull is recorded with its credentials so tests can check
// which AuthConfig a caller sent.
import type { ImageServiceHandlers } from '../generated/runtime/v1/ImageService.ts';
import type { Image } from '../generated/runtime/v1/Image.ts';
import type { AuthConfig__Output } from '../generated/runtime/v1/AuthConfig.ts';
import { nowNs } from './clock.ts';
import type { ImageStore, SimImage } from './images.ts';
import { unary, type HandlerContext } from './unary.ts';

export interface PullRecord {
  image: string;
  auth: AuthConfig__Output | null;
}

export interface ImageServiceDeps extends HandlerContext {
  images: ImageStore;
  pulls: PullRecord[];
}

export function imageServiceHandlers(deps: ImageServiceDeps): ImageServiceHandlers {
  const { images } = deps;
  return {
    ListImages: unary(deps, 'ListImages', (req) => {
      const wanted = req.filter?.image?.image;
      const found = wanted ? [images.resolve(wanted)].filter((i): i is SimImage => !!i) : images.list();
      return { images: found.map(toImage) };
    }),

    ImageStatus: unary(deps, 'ImageStatus', (req) => {
      const image = images.resolve(req.image?.image ?? '');
      return { image: image ? toImage(image) : null, info: {} };
    }),

    PullImage: unary(deps, 'PullImage', (req) => {
      const ref = req.image?.image ?? '';
      deps.pulls.push({ image: ref, auth: req.auth });
      return { imageRef: images.pull(ref).id };
    }),

    RemoveImage: unary(deps, 'RemoveImage', (req) => {
      images.remove(req.image?.image ?? '');
      return {};
    }),

    ImageFsInfo: unary(deps, 'ImageFsInfo', () => ({
      imageFilesystems: [{
        timestamp: nowNs(),
        fsId: { mountpoint: '/var/lib/mini-kubelet-sim/images' },
        usedBytes: { value: images.list().reduce((sum, i) => sum + i.size, 0) },
        inodesUsed: { value: images.list().length * 100 },
      }],
      containerFilesystems: [],
    })),
  };
}

function toImage(i: SimImage): Image {
  return {
    id: i.id,
    repoTags: i.repoTags,
    repoDigests: i.repoDigests,
    size: i.size,
    uid: null,
    username: '',
    spec: { image: i.id, annotations: {} },
    pinned: false,
  };
}
