// Original file: src/cri/proto/runtime.proto


export interface RemoveContainerResponse {
}

export interface RemoveContainerResponse__Output {
}
