// Original file: src/cri/proto/runtime.proto


export interface GetEventsRequest {
}

export interface GetEventsRequest__Output {
}
