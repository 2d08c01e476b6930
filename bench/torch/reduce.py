"""PyTorch twin of bench/reduce_bench.cpp: sums and maxima of a 4096 x 4096 float32 matrix."""
import torch

from common import run

x = torch.rand(4096, 4096)
B = 4096 * 4096 * 4

run([
    ("BM_SumAxis0_4096", lambda: x.sum(0), {"bytes": B}),
    ("BM_SumAxis1_4096", lambda: x.sum(1), {"bytes": B}),
    ("BM_MaxAxis0_4096", lambda: x.amax(0), {"bytes": B}),
    ("BM_MaxAxis1_4096", lambda: x.amax(1), {"bytes": B}),
])
