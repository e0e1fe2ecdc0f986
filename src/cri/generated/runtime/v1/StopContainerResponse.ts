// Original file: src/cri/proto/runtime.proto


export interface StopContainerResponse {
}

export interface StopContainerResponse__Output {
}
