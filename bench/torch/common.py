"""Shared timing for the PyTorch twins of bench/*_bench.cpp.

Each case runs `fn` in a timed loop; the loop repeats `repetitions` times and the median
time per call is reported, as Google Benchmark's --benchmark_repetitions does. Output is JSON
on stdout: {"context": {...}, "benchmarks": [{"name", "time_ns", "bytes"?, "flop"?}]}, names
matching the C++ benchmarks so bench/compare.py can pair them.
"""
import argparse
import json
import statistics
import time

import torch


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--min-time", type=float, default=0.5, help="seconds per repetition, at least")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args()


def time_per_call(fn, min_time):
    fn()  # warm up (allocator, first-touch, lazy init)
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / n
        n = max(n * 2, int(n * min_time / max(elapsed, 1e-9) * 1.2))


def run(cases):
    """cases: list of (name, fn, extra dict with 'bytes' or 'flop' per call)."""
    args = parse_args()
    torch.set_num_threads(args.threads)
    out = []
    for name, fn, extra in cases:
        times = [time_per_call(fn, args.min_time) for _ in range(args.repetitions)]
        out.append({"name": name, "time_ns": statistics.median(times) * 1e9,
                    "repetitions": args.repetitions, **extra})
    context = {"torch": torch.__version__, "threads": torch.get_num_threads(),
               "from": "Python (eager torch calls, interpreter overhead included)"}
    print(json.dumps({"context": context, "benchmarks": out}, indent=1))
