"""Normalisation layers in PyTorch, as JSON: outputs and gradients over two training steps,
the running stats after them, and an eval-mode output.

Each case: the layer's initial weight and bias (random, so gradients through them matter),
a list of training steps (input x, loss weighting w, output y, and the gradients of
sum(y * w) with respect to x, weight and bias), the buffers after the steps, and an eval
input with its output. The C++ test (tests/nn/norm_test.cpp) runs the same in nabla.
"""
import json
import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def enc(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def run(layer, shapes, eval_shape):
    with torch.no_grad():
        layer.weight.copy_(torch.rand(layer.weight.shape) + 0.5)
        layer.bias.copy_(torch.rand(layer.bias.shape) - 0.5)
    case = {"weight": enc(layer.weight), "bias": enc(layer.bias), "steps": []}
    layer.train()
    for i, shape in enumerate(shapes):
        x = (torch.rand(shape) * 4 - 2 + i).requires_grad_(True)
        y = layer(x)
        w = torch.rand(y.shape) + 0.5
        layer.zero_grad()
        (y * w).sum().backward()
        case["steps"].append({"x": enc(x), "w": enc(w), "y": enc(y), "grad_x": enc(x.grad),
                              "grad_weight": enc(layer.weight.grad), "grad_bias": enc(layer.bias.grad)})
    case["buffers"] = {k: enc(v.double()) for k, v in layer.named_buffers()}
    layer.eval()
    x = torch.rand(eval_shape) * 4 - 2
    case["eval"] = {"x": enc(x), "y": enc(layer(x))}
    return case


cases = {
    "batchnorm1d": run(torch.nn.BatchNorm1d(3), [(5, 3), (7, 3)], (4, 3)),
    "batchnorm1d_seq": run(torch.nn.BatchNorm1d(3, momentum=None), [(4, 3, 6), (2, 3, 5)], (2, 3, 4)),
    "batchnorm2d": run(torch.nn.BatchNorm2d(4), [(3, 4, 5, 6), (2, 4, 3, 3)], (2, 4, 2, 2)),
    "layernorm": run(torch.nn.LayerNorm([5, 6]), [(3, 4, 5, 6), (2, 5, 6)], (2, 5, 6)),
    "groupnorm": run(torch.nn.GroupNorm(2, 6), [(3, 6, 4, 4), (2, 6, 5)], (2, 6, 3)),
}
print(json.dumps(cases))
