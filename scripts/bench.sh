#!/usr/bin/env bash
# Benchmarks side by side with PyTorch: builds bench/ and runs every *_bench binary, then
# the PyTorch twins in bench/torch/ (same work, same machine, same run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh --bench
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
for b in build/bench/*_bench; do
  echo "== $b"
  "$b" --benchmark_min_time=0.2 "$@"
done
if [[ -d bench/torch ]]; then
  for p in bench/torch/*.py; do echo "== $p"; python3 "$p"; done
fi
