"""torch.linalg.eigh values and gradients, as JSON, for tests/ae/eigh_test.cpp.

Each case: a symmetric float64 matrix batch a, its eigenvalues and eigenvectors, and the
gradient of the sign-invariant loss sum(cw * w) + sum(cv * V * V) with respect to a.
"""
import json

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def flat(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def case(*shape):
    m = torch.rand(*shape) * 4 - 2
    a = ((m + m.transpose(-1, -2)) / 2).requires_grad_(True)
    w, v = torch.linalg.eigh(a)
    cw = torch.rand(w.shape) - 0.5
    cv = torch.rand(v.shape) - 0.5
    ((cw * w).sum() + (cv * v * v).sum()).backward()
    return {"a": flat(a), "w": flat(w), "v": flat(v), "cw": flat(cw), "cv": flat(cv), "grad": flat(a.grad)}


print(json.dumps({"3x3": case(3, 3), "8x8": case(8, 8), "batch": case(2, 3, 5, 5), "40x40": case(40, 40)}))
