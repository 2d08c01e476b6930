"""PyTorch twin of bench/matmul_bench.cpp: float32 square torch.mm, flop = 2 n^3."""
import torch

from common import run

cases = []
for n in (256, 512, 1024, 2048):
    a = torch.full((n, n), 0.5)
    b = torch.full((n, n), 0.25)
    cases.append((f"BM_Matmul/{n}", (lambda a, b: lambda: torch.mm(a, b))(a, b), {"flop": 2.0 * n ** 3}))
run(cases)
