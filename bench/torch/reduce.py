"""PyTorch twin of bench/reduce_bench.cpp: sums of a 4096 x 4096 float32 matrix."""
import torch

from common import run

x = torch.ones(4096, 4096)
B = 4096 * 4096 * 4

run([
    ("BM_SumAxis0_4096", lambda: x.sum(0), {"bytes": B}),
    ("BM_SumAxis1_4096", lambda: x.sum(1), {"bytes": B}),
])
