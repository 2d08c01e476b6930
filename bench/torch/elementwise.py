"""PyTorch twin of bench/elementwise_bench.cpp: 16M float32 values, bytes moved per call."""
import torch

from common import run

N = 1 << 24
B = N * 4
a = torch.ones(N)
b = torch.ones(N)
dst = torch.empty(N)

run([
    ("BM_Memcpy16M", lambda: dst.copy_(a), {"bytes": 2 * B}),
    ("BM_Clone16M", lambda: a.clone(), {"bytes": 2 * B}),
    ("BM_Add16M", lambda: a + b, {"bytes": 3 * B}),
    ("BM_Mul16M", lambda: a * b, {"bytes": 3 * B}),
    ("BM_MulScalar16M", lambda: a * 2.0, {"bytes": 2 * B}),
])
