#!/usr/bin/env bash
# Runs the packed benchmark (see pack.sh) where there is no Node.js: unpacks
# Node and dawn.node, makes sure a Vulkan loader and the NVIDIA ICD are found,
# and writes gpu.json into $OUT (or the current directory).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work=$(mktemp -d)
cp "$here/bench.mjs" "$work/"
mkdir -p "$work/node_modules/webgpu/dist/linux-x64"
cp "$here/node_modules/webgpu/package.json" "$here/node_modules/webgpu/index.js" "$work/node_modules/webgpu/"
xz -dc "$here/node_modules/webgpu/dist/linux-x64/dawn.node.xz" > "$work/node_modules/webgpu/dist/linux-x64/dawn.node"
xz -dc "$here/node.xz" > "$work/node"
chmod +x "$work/node"
if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
  for f in "$here"/debs/*.deb; do [ -e "$f" ] && dpkg -x "$f" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ]; then
  export VK_DRIVER_FILES="$nvidia_icd"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,clocks.max.sm --format=csv || true
out="${OUT:-$PWD}/gpu.json"
BENCH_CODE="$(cat "$here/code-version" 2>/dev/null || echo packed)" "$work/node" "$work/bench.mjs" "$out" "$@"
