"""PyTorch twin of bench/matmul_bench.cpp: square torch.mm (float32, a transposed view, bfloat16)
and torch.bmm; flop = 2 n^3 per product."""
import torch

from common import run

cases = []
for n in (256, 512, 1024, 2048):
    a = torch.full((n, n), 0.5)
    b = torch.full((n, n), 0.25)
    cases.append((f"BM_Matmul/{n}", (lambda a, b: lambda: torch.mm(a, b))(a, b), {"flop": 2.0 * n ** 3}))
n = 1024
a, b = torch.full((n, n), 0.5), torch.full((n, n), 0.25)
bt = torch.full((n, n), 0.25).t()
cases.append(("BM_MatmulTransB/1024", lambda: torch.mm(a, bt), {"flop": 2.0 * n ** 3}))
a16, b16 = a.bfloat16(), b.bfloat16()
cases.append(("BM_MatmulBf16/1024", lambda: torch.mm(a16, b16), {"flop": 2.0 * n ** 3}))
x, y = torch.full((64, 128, 128), 0.5), torch.full((64, 128, 128), 0.25)
cases.append(("BM_BatchedMatmul/128", lambda: torch.bmm(x, y), {"flop": 2.0 * 64 * 128 ** 3}))
run(cases)
