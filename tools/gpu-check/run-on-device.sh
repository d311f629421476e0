#!/usr/bin/env bash
# Runs a GPU check on the device machine (see prepare.sh), from the repository root there:
#   bash tools/gpu-check/run-on-device.sh [gpuCheck|trainStepCheck]    (with .gpu and .gl carried)
# Results: the log and the check's JSON in $OUT.
set -uo pipefail
check=${1:-gpuCheck}
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
work=/tmp/mitobench-gpu
rm -rf "$work" && mkdir -p "$work/node_modules"
xz -dc .gpu/node.xz >"$work/node" && chmod +x "$work/node"
tar -xJf .gpu/ort.tar.xz -C "$work/node_modules"
cp .gpu/*.mjs "$work/"
# ONNX Runtime's CUDA provider is a separate library (not in the npm package, and not
# downloadable there): use one of the same version if the machine has it anywhere.
ortbin="$work/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
cuda=$(find /opt /usr/local /usr/lib -name 'libonnxruntime_providers_cuda.so' 2>/dev/null | head -1)
if [ -n "$cuda" ]; then
  echo "CUDA provider library found: $cuda"
  cp "$cuda" "$(dirname "$cuda")/libonnxruntime_providers_shared.so" "$ortbin/" 2>/dev/null
else
  echo "no libonnxruntime_providers_cuda.so on this machine"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$work/node" --version
cd "$work" && ./node "$check.mjs" --worker "$work/workerMain.mjs" --out "${OUT:-$work}" 2>&1 | tee "${OUT:-$work}/$check.log"
