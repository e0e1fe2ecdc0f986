// Original file: src/cri/proto/runtime.proto


export interface StopPodSandboxResponse {
}

export interface StopPodSandboxResponse__Output {
}
