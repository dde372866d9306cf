#!/usr/bin/env bash
# Installs the system packages the tests need on Debian 12 (bookworm):
# Chromium (SwiftShader WebGPU for the browser project), Mesa lavapipe from
# bookworm-backports (Dawn rejects bookworm's own Mesa 22.3), and the
# Fashion-MNIST IDX files used by the IDX-reader tests.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

need=""
command -v chromium >/dev/null 2>&1 || need="yes"
[ -f /usr/share/vulkan/icd.d/lvp_icd.json ] || need="yes"
[ -d /usr/share/datasets/fashion-mnist ] || need="yes"
if [ -z "$need" ]; then
  echo "system packages: already installed"
  exit 0
fi

if [ ! -f /etc/apt/sources.list.d/backports.sources ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror="http://deb.debian.org/debian"
  $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null <<SRC
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium dataset-fashion-mnist >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "system packages: installed"
