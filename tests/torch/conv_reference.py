"""Values and gradients of 3-d and transposed convolution layers in PyTorch, as JSON.

Each case: the layer's constructor arguments, its parameters, an input, the output, and the
gradients of sum(output * w) for a fixed weighting w with respect to the input and each
parameter. tests/nn/conv_layers_test.cpp loads the same parameters into nabla's layers.
"""
import json
import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def data(x):
    return {"shape": list(x.shape), "data": x.detach().flatten().tolist()}


cases = {}


def case(name, layer, args, input_shape):
    x = (torch.rand(*input_shape) * 4 - 2).requires_grad_(True)
    out = layer(x)
    w = torch.rand(out.shape) + 0.5
    (out * w).sum().backward()
    params = dict(layer.named_parameters())
    cases[name] = {
        "args": args,
        "params": {k: data(p) for k, p in params.items()},
        "input": data(x),
        "weight": data(w),
        "output": data(out),
        "grads": {"input": x.grad.flatten().tolist(),
                  **{k: p.grad.flatten().tolist() for k, p in params.items()}},
    }


def conv_case(name, cls, cin, cout, k, input_shape, **kw):
    args = {"in": cin, "out": cout, "k": k, **{key: int(v) for key, v in kw.items()}}
    case(name, cls(cin, cout, k, **kw), args, input_shape)


conv_case("conv3d", nn.Conv3d, 4, 6, 3, (2, 4, 5, 6, 7), stride=2, padding=1, groups=2)
conv_case("conv3d_dilated", nn.Conv3d, 3, 4, 2, (1, 3, 5, 4, 5), dilation=2, bias=False)
conv_case("conv_transpose2d", nn.ConvTranspose2d, 4, 6, 3, (2, 4, 5, 4), stride=2, padding=1,
          output_padding=1, groups=2)
# output_padding 1 >= stride 1 is allowed below dilation 2.
conv_case("conv_transpose2d_dilated", nn.ConvTranspose2d, 3, 2, 3, (1, 3, 4, 5), padding=2,
          output_padding=1, dilation=2)
conv_case("conv_transpose1d", nn.ConvTranspose1d, 4, 6, 3, (2, 4, 7), stride=3, padding=1,
          output_padding=2, groups=2)

print(json.dumps(cases))
