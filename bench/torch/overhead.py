"""PyTorch twin of bench/overhead_bench.cpp: per-op cost on 16-element tensors, from Python."""
import torch

from common import run

a = torch.ones(16)
b = torch.ones(16)
g = torch.ones(16, requires_grad=True)


def forward_backward():
    (g * b).sum().backward()
    g.grad = None


run([
    ("BM_Add16", lambda: a + b, {}),
    ("BM_MulScalar16", lambda: a * 2.0, {}),
    ("BM_Sum16", lambda: a.sum(), {}),
    ("BM_ForwardBackward16", forward_backward, {}),
])
