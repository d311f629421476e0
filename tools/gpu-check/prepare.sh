#!/usr/bin/env bash
# Packs the GPU check for a machine with a GPU but without Node.js or network (the `device`
# tool's machines): this computer's Node binary and ONNX Runtime's Linux build, compressed,
# the check and the session worker bundled by esbuild, and the Vulkan loader packages that
# WebGPU (Dawn) needs. Everything goes to .gpu/ and .gl/, which git ignores
# (.git/info/exclude); run-on-device.sh unpacks them there.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude || echo /.gpu/ >>.git/info/exclude
grep -qx '/.gl/' .git/info/exclude || echo /.gl/ >>.git/info/exclude
rm -rf .gpu && mkdir -p .gpu .gl
xz -T2 -6 -c "$(command -v node)" >.gpu/node.xz
tar -cJf .gpu/ort.tar.xz -C node_modules onnxruntime-node/package.json onnxruntime-node/dist onnxruntime-node/bin/napi-v6/linux/x64 onnxruntime-common
for check in gpuCheck trainStepCheck; do
  npx esbuild "tools/gpu-check/$check.ts" --bundle --platform=node --format=esm --target=node20 --external:onnxruntime-node --outfile=".gpu/$check.mjs" --log-level=warning
done
npx esbuild src-main/services/models/runtime/workerMain.ts --bundle --platform=node --format=esm --target=node20 --external:onnxruntime-node --outfile=.gpu/workerMain.mjs --log-level=warning
if ! ls .gl/*.deb >/dev/null 2>&1; then
  mkdir -p /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .gpu .gl
