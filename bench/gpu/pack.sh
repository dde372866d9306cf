#!/usr/bin/env bash
# Packs the Node benchmark for a machine with an NVIDIA GPU and neither Node.js
# nor a package registry: .gpu-pack/ holds this machine's Node binary, Dawn's
# dawn.node (both xz-compressed, ~35 MiB together), the bundled benchmark, the
# Vulkan loader as Debian packages, and run-on-device.sh. Carry .gpu-pack there
# and run `bash .gpu-pack/run-on-device.sh [--quick]`: it writes gpu.json
# (into $OUT when set), which `npm run bench -- --render <path>` turns into
# the Markdown table and the chart.
set -euo pipefail
cd "$(dirname "$0")/../.."
pack=.gpu-pack
mkdir -p "$pack"
npx vite build --config bench/gpu/vite.config.ts
xz -T0 -6 -c "$(command -v node)" > "$pack/node.xz"
mkdir -p "$pack/node_modules/webgpu/dist/linux-x64"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$pack/node_modules/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$pack/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src shaders bench || echo +dirty)" > "$pack/code-version"
# The Vulkan loader (libvulkan1) for an image that has the NVIDIA driver but no loader.
mkdir -p "$pack/debs" /tmp/amd64/partial
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
if apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1; then
  (cd "$pack/debs" && apt-get "${apt_opts[@]}" download libvulkan1 >/dev/null 2>&1) || echo "warning: could not download libvulkan1"
fi
cp bench/gpu/run-on-device.sh "$pack/"
du -sh "$pack"
