"""torch.nn.Bilinear values and gradients, as JSON, for tests/nn/bilinear_test.cpp.

Each case: the layer's weight and bias, inputs x1 and x2 (float64), the output, and the
gradients of sum(output * w) for a fixed weighting w with respect to x1, x2, weight and bias.
"""
import json

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def flat(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def case(in1, in2, out, lead, bias=True):
    layer = torch.nn.Bilinear(in1, in2, out, bias=bias)
    x1 = (torch.rand(*lead, in1) * 4 - 2).requires_grad_(True)
    x2 = (torch.rand(*lead, in2) * 4 - 2).requires_grad_(True)
    y = layer(x1, x2)
    w = torch.rand(y.shape) + 0.5
    (y * w).sum().backward()
    c = {"x1": flat(x1), "x2": flat(x2), "weight": flat(layer.weight), "w": flat(w), "output": flat(y),
         "grad_x1": flat(x1.grad), "grad_x2": flat(x2.grad), "grad_weight": flat(layer.weight.grad)}
    if bias:
        c["bias"] = flat(layer.bias)
        c["grad_bias"] = flat(layer.bias.grad)
    return c


print(json.dumps({
    "batch": case(3, 4, 5, [6]),
    "leading_dims_no_bias": case(2, 3, 4, [2, 3], bias=False),
    "single_row": case(4, 2, 3, [1]),
}))
