#!/usr/bin/env bash
# Installs, as root, the Debian packages the real test world needs (DESIGN.md section 9).
# Idempotent: installs only what is missing.
set -euo pipefail
pkgs=(containerd runc containernetworking-plugins docker-registry skopeo busybox-static gcc iproute2 iptables apache2-utils)
# Headless Chromium renders the pod timeline page in test/e2e/agent-timeline-browser.test.ts.
pkgs+=(chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The distro's containerd service would fight ours for /run/containerd: the test world
# runs its own containerd under a temporary root, so keep the packaged one stopped.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then
  systemctl stop containerd || true
fi
echo "test world packages present"
