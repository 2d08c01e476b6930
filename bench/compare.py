#!/usr/bin/env python3
"""Prints nabla's Google Benchmark results next to the PyTorch twins', with ratios.

usage: compare.py --nabla a.json [b.json ...] --torch x.json [y.json ...]

nabla files come from `<bench> --benchmark_format=json` (with --benchmark_repetitions the
median aggregate is used); torch files from bench/torch/*.py. Benchmarks pair by name. A
"flop" counter turns times into GFLOP/s, a "bytes" counter into GB/s (bytes moved per call);
others are shown as time per call. Ratio = torch time / nabla time (> 1: nabla is faster).
Within nabla's own run, matmul is also compared with oneDNN's sgemm (BM_Sgemm) and
elementwise bandwidth with memcpy's (BM_Memcpy16M).
"""
import argparse
import json
import re

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def order_key(name):
    """BM_Sgemm/512 -> ("BM_Sgemm", 512): groups a benchmark's sizes, smallest first."""
    base, _, arg = name.partition("/")
    return (base, int(arg) if arg.isdigit() else 0)


def load_nabla(paths):
    """Rows per benchmark name, grouped by file (random interleaving shuffles the runs)."""
    rows = {}
    for path in paths:
        file_rows = {}
        with open(path) as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            name = re.sub(r"/real_time$", "", b.get("run_name", b["name"]))
            entry = {"time_ns": b["real_time"] * UNIT_NS[b.get("time_unit", "ns")]}
            for key in ("bytes", "flop"):
                if key in b:
                    entry[key] = b[key]
            # A median aggregate wins over single iterations of the same name.
            if b.get("run_type") == "aggregate" or name not in file_rows:
                file_rows[name] = entry
        for name in sorted(file_rows, key=order_key):
            rows[name] = file_rows[name]
    return rows


def load_torch(paths):
    rows, context = {}, {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context.update(data.get("context", {}))
        for b in data["benchmarks"]:
            rows[b["name"]] = b
    return rows, context


def figure(entry):
    if entry is None:
        return "-"
    t = entry["time_ns"]
    if "flop" in entry:
        return f"{entry['flop'] / t:.1f} GFLOP/s"
    if "bytes" in entry:
        return f"{entry['bytes'] / t:.2f} GB/s"
    return f"{t / 1e3:.3f} us" if t >= 100 else f"{t:.1f} ns"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nabla", nargs="+", required=True)
    p.add_argument("--torch", nargs="*", default=[])
    args = p.parse_args()
    nabla = load_nabla(args.nabla)
    torch, context = load_torch(args.torch)

    print(f"PyTorch {context.get('torch', '?')}, {context.get('threads', '?')} threads, "
          f"timed from {context.get('from', 'Python')}.\n")
    print("| benchmark | nabla | PyTorch | ratio (torch time / nabla time) |")
    print("| --- | --- | --- | --- |")
    for name, n in nabla.items():
        t = torch.get(name)
        ratio = f"{t['time_ns'] / n['time_ns']:.2f}x" if t else "-"
        print(f"| {name} | {figure(n)} | {figure(t)} | {ratio} |")

    refs = []
    for name, n in nabla.items():
        m = re.fullmatch(r"BM_Matmul/(\d+)", name)
        if m and f"BM_Sgemm/{m.group(1)}" in nabla:
            s = nabla[f"BM_Sgemm/{m.group(1)}"]
            refs.append((name, "oneDNN dnnl_sgemm", s["time_ns"] / n["time_ns"]))
        if "BM_Memcpy16M" in nabla and "bytes" in n and name.endswith("16M") and name != "BM_Memcpy16M":
            c = nabla["BM_Memcpy16M"]
            refs.append((name, "memcpy bandwidth", (n["bytes"] / n["time_ns"]) / (c["bytes"] / c["time_ns"])))
    if refs:
        print("\n| nabla benchmark | reference in the same binary | nabla as a fraction of it |")
        print("| --- | --- | --- |")
        for name, ref, frac in refs:
            print(f"| {name} | {ref} | {frac * 100:.0f}% |")


if __name__ == "__main__":
    main()
