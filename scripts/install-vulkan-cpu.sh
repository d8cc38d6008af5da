#!/usr/bin/env bash
# Installs Mesa's lavapipe (Vulkan on the CPU) from bookworm-backports: Dawn rejects bookworm's own Mesa 22.3.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "install-vulkan-cpu: must run as root (apt-get)" >&2; exit 1; fi
src=/etc/apt/sources.list.d/debian.sources
backports=/etc/apt/sources.list.d/comi-backports.sources
if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # Same mirror as the machine's own Debian source, so no new host is contacted.
  uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$src" 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$uri" ] || { echo "install-vulkan-cpu: cannot find the machine's Debian mirror" >&2; exit 1; }
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" > "$backports"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "install-vulkan-cpu: installed $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) mesa-vulkan-drivers"
