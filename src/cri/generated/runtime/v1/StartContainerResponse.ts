// Original file: src/cri/proto/runtime.proto


export interface StartContainerResponse {
}

export interface StartContainerResponse__Output {
}
