#!/usr/bin/env bash
# One training epoch on Fashion-MNIST, nabla and PyTorch side by side in the same run: the MLP
# (examples/mlp) and the CNN (examples/fashion_mnist) against their twin bench/torch/fashion_epoch.py
# (same nets, same data, batch 64, Adam lr 1e-3, 2 threads each). Prints seconds per epoch
# (training loop only, batching included; wall-clock and process CPU time), samples/s and test
# accuracy, with the ratio nabla time / PyTorch time (below 1: nabla is faster). On a shared
# machine the CPU seconds move less with the load than the wall-clock ones. Raw lines stay in
# build/bench-results/.
#
# Both libraries run on libgomp; OMP_WAIT_POLICY (default here: passive, for both) decides
# whether idle OpenMP threads spin. On a loaded machine spinning threads steal the cores the
# other thread (and the DataLoader's worker) need: measured here, nabla's MLP on 20000 images
# under load average 9: 39 s with "active", 2.3 s with "passive".
#
# usage: bench/epoch_compare.sh [--no-build] [--epochs N] [--threads N] [--models "mlp cnn"]
#                               [--wait-policy passive|active|default]
set -euo pipefail
cd "$(dirname "$0")/.."

build=1 epochs=1 threads=2 models="mlp cnn" policy=passive
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --epochs) epochs="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --models) models="$2"; shift ;;
    --wait-policy) policy="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if ((build)); then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j "$(nproc)" --target mlp fashion_mnist
fi
py=/usr/bin/python3
"$py" -c "import torch" 2>/dev/null || { echo "error: $py has no torch (Debian python3-torch)" >&2; exit 1; }

out=build/bench-results
mkdir -p "$out"
export OMP_NUM_THREADS="$threads"
if [[ "$policy" != default ]]; then export OMP_WAIT_POLICY="$policy"; fi
cpu() { lscpu | sed -n "s/^$1: *//p"; }
echo "machine: $(cpu 'Model name') (family $(cpu 'CPU family'), model $(cpu 'Model')), $(getconf _NPROCESSORS_ONLN) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "OMP_NUM_THREADS=$threads, torch.set_num_threads($threads), OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}; $epochs epoch(s)"
echo "load average at the start (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A binary=([mlp]=mlp [cnn]=fashion_mnist)
for m in $models; do
  echo "== nabla $m" >&2
  "build/examples/${binary[$m]}" --epochs "$epochs" --json --out "$out/epoch_$m.safetensors" \
    | tee "$out/epoch_$m.nabla.log" | grep -E '^(json|test accuracy|epoch [0-9]+ done)' >&2
  echo "== torch $m" >&2
  "$py" bench/torch/fashion_epoch.py "$m" --epochs "$epochs" --threads "$threads" | tee "$out/epoch_$m.torch.log" >&2
done
echo "load average at the end (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"

"$py" - "$out" $models <<'PY'
import json, sys
out, models = sys.argv[1], sys.argv[2:]
def result(path):
    for line in open(path):
        if line.startswith("json: "):
            return json.loads(line[6:])
    raise SystemExit(f"no json line in {path}")
targets = {"mlp": 0.35, "cnn": 0.5}
def mean(v):
    return sum(v) / len(v) if v else float("nan")
print("\nratio = nabla time / PyTorch time (below 1: nabla is faster); CPU = process CPU seconds, all threads")
print("| model | nabla s/epoch | torch s/epoch | ratio (target) | nabla CPU s | torch CPU s | CPU ratio | nabla samples/s | torch samples/s | nabla test acc | torch test acc |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for m in models:
    n, t = result(f"{out}/epoch_{m}.nabla.log"), result(f"{out}/epoch_{m}.torch.log")
    ns, ts = mean(n["epoch_seconds"]), mean(t["epoch_seconds"])
    nc, tc = mean(n.get("epoch_cpu_seconds", [])), mean(t.get("epoch_cpu_seconds", []))
    r = ns / ts
    verdict = "met" if r <= targets[m] else "NOT met"
    print(f"| {m} | {ns:.2f} | {ts:.2f} | {r:.3f} (<= {targets[m]}, {verdict}) | {nc:.1f} | {tc:.1f} | {nc / tc:.3f} | "
          f"{n['samples_per_s']:.0f} | {t['samples_per_s']:.0f} | {n['test_accuracy']:.4f} | {t['test_accuracy']:.4f} |")
PY
