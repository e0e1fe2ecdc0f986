// The kubelet's names for CRI calls, as its instrumented runtime service labels them in
// kubelet_runtime_operations_* (operation_type): the RPC's name in snake form, with the
// kubelet's own spellings where they differ (run_podsandbox, podsandbox_status, update_container).

const KUBELET_SPELLINGS: Record<string, string> = {
  UpdateContainerResources: 'update_container',
};

/** "RunPodSandbox" → "run_podsandbox", "ExecSync" → "exec_sync", "ListContainers" → "list_containers". */
export function criOperationName(method: string): string {
  const spelled = KUBELET_SPELLINGS[method];
  if (spelled) return spelled;
  return method
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replaceAll('pod_sandbox', 'podsandbox');
}
