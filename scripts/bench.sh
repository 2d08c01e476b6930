#!/usr/bin/env bash
# Benchmarks side by side with PyTorch (DESIGN.md, "Numbers the design must reach"): builds
# bench/, runs every bench/*_bench binary and its PyTorch twin bench/torch/<name>.py in the
# same run, then prints one table with ratios (bench/compare.py). Results stay in
# build/bench-results/ as JSON.
#
# usage: scripts/bench.sh [--no-build] [--repetitions N] [--filter REGEX] [--threads N] [--epochs]
#   --filter picks benchmarks by name (Google Benchmark regex), e.g. 'Matmul|Sgemm'.
#   --epochs also trains one Fashion-MNIST epoch of the MLP and the CNN in nabla and PyTorch
#            (bench/epoch_compare.sh; about 15 minutes on 2 idle cores, PyTorch's CNN most of it).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1 reps=3 filter="." threads=2 epochs=0
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --repetitions) reps="$2"; shift ;;
    --filter) filter="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --epochs) epochs=1 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if ((build)); then
  bash scripts/install_deps.sh --bench
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DNABLA_BUILD_BENCH=ON >/dev/null
  cmake --build build -j "$(nproc)" --target \
    $(for s in bench/*_bench.cpp; do basename "$s" .cpp; done) $( ((epochs)) && echo mlp fashion_mnist)
fi

# A Python that has torch (Debian's python3-torch lives under /usr/bin/python3).
py=""
for cand in python3 /usr/bin/python3; do
  if "$cand" -c "import torch" 2>/dev/null; then py="$cand"; break; fi
done
[[ -z "$py" ]] && echo "warning: no python3 with torch; printing nabla's figures alone" >&2

out=build/bench-results
mkdir -p "$out"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
export OMP_NUM_THREADS="$threads"
nabla_json=() torch_json=()
for b in build/bench/*_bench; do
  name=$(basename "$b" _bench)
  echo "== $b" >&2
  "$b" --benchmark_filter="$filter" --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true --benchmark_format=json \
    --benchmark_min_warmup_time=0.2 --benchmark_enable_random_interleaving=true \
    --benchmark_out="$out/$name.nabla.json" --benchmark_out_format=json >/dev/null
  nabla_json+=("$out/$name.nabla.json")
  if [[ -n "$py" && -f "bench/torch/$name.py" ]]; then
    echo "== bench/torch/$name.py" >&2
    (cd bench/torch && "$py" "$name.py" --repetitions "$reps" --threads "$threads") > "$out/$name.torch.json"
    torch_json+=("$out/$name.torch.json")
  fi
done

cpu() { lscpu | sed -n "s/^$1: *//p"; }
echo "machine: $(cpu 'Model name') (family $(cpu 'CPU family'), model $(cpu 'Model')), $(getconf _NPROCESSORS_ONLN) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load average at the start: $load_before"
echo "nabla: OMP_NUM_THREADS=$threads; load average at the end (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
"${py:-python3}" bench/compare.py --nabla "${nabla_json[@]}" ${torch_json[@]:+--torch "${torch_json[@]}"}

if ((epochs)); then
  echo
  bash bench/epoch_compare.sh --no-build --threads "$threads"
fi
