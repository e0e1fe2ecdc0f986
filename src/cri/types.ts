// Friendly names for the CRI messages (generated from proto/runtime.proto into ./generated).
//
// Convention: things you SEND (configs, filters, requests) are exported under their plain
// name in their permissive "input" form (optional fields). Things you RECEIVE (statuses,
// list items, responses) are exported under their plain name in their "output" form: every
// field present, defaults filled (0, "", [], {}), int64 as number, enums as their names.
// Timestamps (created_at, started_at, finished_at) are nanoseconds since the epoch.

// Sent: configs and filters.
export type { PodSandboxConfig } from './generated/runtime/v1/PodSandboxConfig.ts';
export type { PodSandboxMetadata } from './generated/runtime/v1/PodSandboxMetadata.ts';
export type { LinuxPodSandboxConfig } from './generated/runtime/v1/LinuxPodSandboxConfig.ts';
export type { LinuxSandboxSecurityContext } from './generated/runtime/v1/LinuxSandboxSecurityContext.ts';
export type { DNSConfig } from './generated/runtime/v1/DNSConfig.ts';
export type { PortMapping } from './generated/runtime/v1/PortMapping.ts';
export type { ContainerConfig } from './generated/runtime/v1/ContainerConfig.ts';
export type { ContainerMetadata } from './generated/runtime/v1/ContainerMetadata.ts';
export type { LinuxContainerConfig } from './generated/runtime/v1/LinuxContainerConfig.ts';
export type { LinuxContainerSecurityContext } from './generated/runtime/v1/LinuxContainerSecurityContext.ts';
export type { LinuxContainerResources } from './generated/runtime/v1/LinuxContainerResources.ts';
export type { Capability } from './generated/runtime/v1/Capability.ts';
export type { NamespaceOption } from './generated/runtime/v1/NamespaceOption.ts';
export type { UserNamespace } from './generated/runtime/v1/UserNamespace.ts';
export type { IDMapping } from './generated/runtime/v1/IDMapping.ts';
export type { SELinuxOption } from './generated/runtime/v1/SELinuxOption.ts';
export type { SecurityProfile } from './generated/runtime/v1/SecurityProfile.ts';
export type { Int64Value } from './generated/runtime/v1/Int64Value.ts';
export type { KeyValue } from './generated/runtime/v1/KeyValue.ts';
export type { Mount } from './generated/runtime/v1/Mount.ts';
export type { Device } from './generated/runtime/v1/Device.ts';
export type { CDIDevice } from './generated/runtime/v1/CDIDevice.ts';
export type { ImageSpec } from './generated/runtime/v1/ImageSpec.ts';
export type { AuthConfig } from './generated/runtime/v1/AuthConfig.ts';
export type { PodSandboxFilter } from './generated/runtime/v1/PodSandboxFilter.ts';
export type { PodSandboxStateValue } from './generated/runtime/v1/PodSandboxStateValue.ts';
export type { ContainerFilter } from './generated/runtime/v1/ContainerFilter.ts';
export type { ContainerStateValue } from './generated/runtime/v1/ContainerStateValue.ts';
export type { ImageFilter } from './generated/runtime/v1/ImageFilter.ts';
export type { HugepageLimit } from './generated/runtime/v1/HugepageLimit.ts';

// Received: statuses and list items (output form).
export type { PodSandboxStatus__Output as PodSandboxStatus } from './generated/runtime/v1/PodSandboxStatus.ts';
export type { PodSandbox__Output as PodSandbox } from './generated/runtime/v1/PodSandbox.ts';
export type { PodSandboxNetworkStatus__Output as PodSandboxNetworkStatus } from './generated/runtime/v1/PodSandboxNetworkStatus.ts';
export type { PodIP__Output as PodIP } from './generated/runtime/v1/PodIP.ts';
export type { LinuxPodSandboxStatus__Output as LinuxPodSandboxStatus } from './generated/runtime/v1/LinuxPodSandboxStatus.ts';
export type { Namespace__Output as Namespace } from './generated/runtime/v1/Namespace.ts';
export type { ContainerStatus__Output as ContainerStatus } from './generated/runtime/v1/ContainerStatus.ts';
export type { Container__Output as Container } from './generated/runtime/v1/Container.ts';
export type { ContainerResources__Output as ContainerResources } from './generated/runtime/v1/ContainerResources.ts';
export type { Image__Output as Image } from './generated/runtime/v1/Image.ts';
export type { RuntimeStatus__Output as RuntimeStatus } from './generated/runtime/v1/RuntimeStatus.ts';
export type { RuntimeCondition__Output as RuntimeCondition } from './generated/runtime/v1/RuntimeCondition.ts';
export type { RuntimeHandler__Output as RuntimeHandler } from './generated/runtime/v1/RuntimeHandler.ts';
export type { FilesystemUsage__Output as FilesystemUsage } from './generated/runtime/v1/FilesystemUsage.ts';
export type { UInt64Value__Output as UInt64Value } from './generated/runtime/v1/UInt64Value.ts';

// Requests (input form) and responses (output form), one pair per RPC.
export type { VersionRequest } from './generated/runtime/v1/VersionRequest.ts';
export type { VersionResponse__Output as VersionResponse } from './generated/runtime/v1/VersionResponse.ts';
export type { RunPodSandboxRequest } from './generated/runtime/v1/RunPodSandboxRequest.ts';
export type { RunPodSandboxResponse__Output as RunPodSandboxResponse } from './generated/runtime/v1/RunPodSandboxResponse.ts';
export type { StopPodSandboxRequest } from './generated/runtime/v1/StopPodSandboxRequest.ts';
export type { StopPodSandboxResponse__Output as StopPodSandboxResponse } from './generated/runtime/v1/StopPodSandboxResponse.ts';
export type { RemovePodSandboxRequest } from './generated/runtime/v1/RemovePodSandboxRequest.ts';
export type { RemovePodSandboxResponse__Output as RemovePodSandboxResponse } from './generated/runtime/v1/RemovePodSandboxResponse.ts';
export type { PodSandboxStatusRequest } from './generated/runtime/v1/PodSandboxStatusRequest.ts';
export type { PodSandboxStatusResponse__Output as PodSandboxStatusResponse } from './generated/runtime/v1/PodSandboxStatusResponse.ts';
export type { ListPodSandboxRequest } from './generated/runtime/v1/ListPodSandboxRequest.ts';
export type { ListPodSandboxResponse__Output as ListPodSandboxResponse } from './generated/runtime/v1/ListPodSandboxResponse.ts';
export type { CreateContainerRequest } from './generated/runtime/v1/CreateContainerRequest.ts';
export type { CreateContainerResponse__Output as CreateContainerResponse } from './generated/runtime/v1/CreateContainerResponse.ts';
export type { StartContainerRequest } from './generated/runtime/v1/StartContainerRequest.ts';
export type { StartContainerResponse__Output as StartContainerResponse } from './generated/runtime/v1/StartContainerResponse.ts';
export type { StopContainerRequest } from './generated/runtime/v1/StopContainerRequest.ts';
export type { StopContainerResponse__Output as StopContainerResponse } from './generated/runtime/v1/StopContainerResponse.ts';
export type { RemoveContainerRequest } from './generated/runtime/v1/RemoveContainerRequest.ts';
export type { RemoveContainerResponse__Output as RemoveContainerResponse } from './generated/runtime/v1/RemoveContainerResponse.ts';
export type { ListContainersRequest } from './generated/runtime/v1/ListContainersRequest.ts';
export type { ListContainersResponse__Output as ListContainersResponse } from './generated/runtime/v1/ListContainersResponse.ts';
export type { ContainerStatusRequest } from './generated/runtime/v1/ContainerStatusRequest.ts';
export type { ContainerStatusResponse__Output as ContainerStatusResponse } from './generated/runtime/v1/ContainerStatusResponse.ts';
export type { UpdateContainerResourcesRequest } from './generated/runtime/v1/UpdateContainerResourcesRequest.ts';
export type { UpdateContainerResourcesResponse__Output as UpdateContainerResourcesResponse } from './generated/runtime/v1/UpdateContainerResourcesResponse.ts';
export type { ListContainerStatsRequest } from './generated/runtime/v1/ListContainerStatsRequest.ts';
export type { ListContainerStatsResponse__Output as ListContainerStatsResponse } from './generated/runtime/v1/ListContainerStatsResponse.ts';
export type { ContainerStats__Output as ContainerStats } from './generated/runtime/v1/ContainerStats.ts';
export type { ContainerStatsFilter } from './generated/runtime/v1/ContainerStatsFilter.ts';
export type { ExecSyncRequest } from './generated/runtime/v1/ExecSyncRequest.ts';
export type { ExecSyncResponse__Output as ExecSyncResponse } from './generated/runtime/v1/ExecSyncResponse.ts';
export type { ExecRequest } from './generated/runtime/v1/ExecRequest.ts';
export type { ExecResponse__Output as ExecResponse } from './generated/runtime/v1/ExecResponse.ts';
export type { AttachRequest } from './generated/runtime/v1/AttachRequest.ts';
export type { AttachResponse__Output as AttachResponse } from './generated/runtime/v1/AttachResponse.ts';
export type { PortForwardRequest } from './generated/runtime/v1/PortForwardRequest.ts';
export type { PortForwardResponse__Output as PortForwardResponse } from './generated/runtime/v1/PortForwardResponse.ts';
export type { StatusRequest } from './generated/runtime/v1/StatusRequest.ts';
export type { StatusResponse__Output as StatusResponse } from './generated/runtime/v1/StatusResponse.ts';
export type { ListImagesRequest } from './generated/runtime/v1/ListImagesRequest.ts';
export type { ListImagesResponse__Output as ListImagesResponse } from './generated/runtime/v1/ListImagesResponse.ts';
export type { ImageStatusRequest } from './generated/runtime/v1/ImageStatusRequest.ts';
export type { ImageStatusResponse__Output as ImageStatusResponse } from './generated/runtime/v1/ImageStatusResponse.ts';
export type { PullImageRequest } from './generated/runtime/v1/PullImageRequest.ts';
export type { PullImageResponse__Output as PullImageResponse } from './generated/runtime/v1/PullImageResponse.ts';
export type { RemoveImageRequest } from './generated/runtime/v1/RemoveImageRequest.ts';
export type { RemoveImageResponse__Output as RemoveImageResponse } from './generated/runtime/v1/RemoveImageResponse.ts';
export type { ImageFsInfoRequest } from './generated/runtime/v1/ImageFsInfoRequest.ts';
export type { ImageFsInfoResponse__Output as ImageFsInfoResponse } from './generated/runtime/v1/ImageFsInfoResponse.ts';
export type { GetEventsRequest } from './generated/runtime/v1/GetEventsRequest.ts';
export type { ContainerEventResponse__Output as ContainerEventResponse } from './generated/runtime/v1/ContainerEventResponse.ts';

// Enums: the value objects, and their names as string types (what responses carry).
export { ContainerState } from './generated/runtime/v1/ContainerState.ts';
export type { ContainerState__Output as ContainerStateName } from './generated/runtime/v1/ContainerState.ts';
export { PodSandboxState } from './generated/runtime/v1/PodSandboxState.ts';
export type { PodSandboxState__Output as PodSandboxStateName } from './generated/runtime/v1/PodSandboxState.ts';
export { NamespaceMode } from './generated/runtime/v1/NamespaceMode.ts';
export type { NamespaceMode__Output as NamespaceModeName } from './generated/runtime/v1/NamespaceMode.ts';
export { Protocol } from './generated/runtime/v1/Protocol.ts';
export type { Protocol__Output as ProtocolName } from './generated/runtime/v1/Protocol.ts';
export { ContainerEventType } from './generated/runtime/v1/ContainerEventType.ts';
export type { ContainerEventType__Output as ContainerEventTypeName } from './generated/runtime/v1/ContainerEventType.ts';
export { MountPropagation } from './generated/runtime/v1/MountPropagation.ts';
export type { MountPropagation__Output as MountPropagationName } from './generated/runtime/v1/MountPropagation.ts';
