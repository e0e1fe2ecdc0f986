// containerd's configuration (version 2) for one world: every path under the world's root,
// the CRI plugin tuned for this VM (restrict_oom_score_adj), two runc handlers told apart by
// their runc state roots, and registries reached over plain HTTP through hosts.toml files.

export interface ContainerdPaths {
  root: string;
  state: string;
  socket: string;
  cniConfDir: string;
  cniBinDir: string;
  /** containerd's registry config_path: one directory per host holding hosts.toml. */
  registryConfigDir: string;
  /** runc --root of each handler. */
  runtimeRoots: Record<'runc' | 'runc-alt', string>;
  optDir: string;
}

const q = (s: string) => JSON.stringify(s);

export function renderContainerdConfig(paths: ContainerdPaths, sandboxImage: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const handler = (name: string, runcRoot: string) => `
[${cri}.containerd.runtimes.${q(name)}]
  runtime_type = "io.containerd.runc.v2"
[${cri}.containerd.runtimes.${q(name)}.options]
  SystemdCgroup = false
  Root = ${q(runcRoot)}
`;
  return `version = 2
root = ${q(paths.root)}
state = ${q(paths.state)}
# Snapshotters that cannot work here only slow the start down with errors.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${q(paths.socket)}
[ttrpc]
  address = ${q(paths.socket + '.ttrpc')}

[plugins."io.containerd.internal.v1.opt"]
  path = ${q(paths.optDir)}

[${cri}]
  sandbox_image = ${q(sandboxImage)}
  # The VM lacks CAP_SYS_RESOURCE: without this every sandbox fails on oom_score_adj.
  restrict_oom_score_adj = true
  # Network namespaces under our state dir, not the host's /var/run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_cdi = false

[${cri}.cni]
  bin_dir = ${q(paths.cniBinDir)}
  conf_dir = ${q(paths.cniConfDir)}
  max_conf_num = 1

[${cri}.containerd]
  default_runtime_name = "runc"
  snapshotter = "overlayfs"
${handler('runc', paths.runtimeRoots.runc)}${handler('runc-alt', paths.runtimeRoots['runc-alt'])}
[${cri}.registry]
  config_path = ${q(paths.registryConfigDir)}
`;
}

/** hosts.toml for a plain-HTTP registry on loopback. */
export function renderHostsToml(registryHost: string): string {
  return `server = ${q(`http://${registryHost}`)}

[host.${q(`http://${registryHost}`)}]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
`;
}
