// Original file: src/cri/proto/runtime.proto


export interface ImageFsInfoRequest {
}

export interface ImageFsInfoRequest__Output {
}
