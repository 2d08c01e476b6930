"""PyTorch twin of bench/compile_bench.cpp's elementwise-heavy cases (16M float32 values).

nabla's Eager rows run the expression op by op, its Compiled rows as one fused program. On
the torch side, Eager rows run the same ops one by one; the Compiled rows use what torch
offers instead: its fused native kernels (F.gelu with approximate='tanh', F.mse_loss with
reduction='sum'), or the same ops where it has none (the LayerNorm affine step). TorchScript's
CPU fuser needs LLVM, which Debian's torch 1.13 lacks ("LLVM Backend not found").
"""
import torch
import torch.nn.functional as F

from common import run

N = 1 << 24
B = N * 4
FEATURES = 4096
x = torch.randn(N)
p, t = torch.randn(N), torch.randn(N)
rows = torch.randn(N // FEATURES, FEATURES)
mean = rows.mean(1, keepdim=True)
rstd = torch.rsqrt(rows.var(1, unbiased=False, keepdim=True) + 1e-5)
gamma, beta = torch.rand(FEATURES) + 0.5, torch.randn(FEATURES)


def gelu_tanh(v):
    return v * 0.5 * (torch.tanh((v + v * v * v * 0.044715) * 0.7978845608) + 1.0)


def normalise_scale_shift():
    return (rows - mean) * rstd * gamma + beta


run([
    ("BM_GeluTanhEager/16777216", lambda: gelu_tanh(x), {"bytes": 2 * B}),
    ("BM_GeluTanhCompiled/16777216", lambda: F.gelu(x, approximate="tanh"), {"bytes": 2 * B}),
    ("BM_LayerNormAffineEager/16777216", normalise_scale_shift, {"bytes": 2 * B}),
    ("BM_LayerNormAffineCompiled/16777216", normalise_scale_shift, {"bytes": 2 * B}),
    ("BM_SquaredErrorSum/compiled:0", lambda: ((p - t) * (p - t)).sum(), {"bytes": 2 * B}),
    ("BM_SquaredErrorSum/compiled:1", lambda: F.mse_loss(p, t, reduction="sum"), {"bytes": 2 * B}),
])
