"""Values and gradients of the pooling and upsampling layers in PyTorch, as JSON.

Each case: inputs (shape + float64 data), the output, and the gradient of sum(output * w)
for a fixed weighting w (given too) with respect to the input. The C++ test
(tests/nn/pool_layers_test.cpp) runs the same layers in nabla.
"""
import json
import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

cases = {}


def case(name, layer, *shape):
    x = (torch.rand(*shape) * 4 - 2).requires_grad_(True)
    out = layer(x)
    w = torch.rand(out.shape) + 0.5
    (out * w).sum().backward()
    cases[name] = {
        "input": {"shape": list(x.shape), "data": x.detach().flatten().tolist()},
        "weight": {"shape": list(w.shape), "data": w.flatten().tolist()},
        "output": {"shape": list(out.shape), "data": out.detach().flatten().tolist()},
        "grad": x.grad.flatten().tolist(),
    }


case("max_pool1d", nn.MaxPool1d(3, 2, 1), 2, 3, 9)
case("max_pool1d_default_stride", nn.MaxPool1d(2), 2, 3, 9)
case("avg_pool1d", nn.AvgPool1d(3, 2, 1), 2, 3, 9)
case("avg_pool1d_exclude_pad", nn.AvgPool1d(4, 1, 2, count_include_pad=False), 2, 3, 9)
case("max_pool3d", nn.MaxPool3d(2), 1, 2, 4, 5, 6)
case("max_pool3d_stride_pad", nn.MaxPool3d(3, 2, 1), 1, 2, 5, 6, 7)
case("avg_pool3d", nn.AvgPool3d(3, 2, 1), 1, 2, 5, 6, 7)
case("avg_pool3d_exclude_pad", nn.AvgPool3d(3, 2, 1, count_include_pad=False), 1, 2, 5, 6, 7)
case("adaptive_avg_pool1d", nn.AdaptiveAvgPool1d(4), 2, 3, 10)
case("adaptive_max_pool1d", nn.AdaptiveMaxPool1d(4), 2, 3, 10)
case("adaptive_max_pool2d", nn.AdaptiveMaxPool2d((3, 4)), 2, 2, 7, 9)
case("nearest_scale2", nn.Upsample(scale_factor=2), 1, 2, 3, 4)
case("nearest_size", nn.Upsample(size=(5, 7)), 1, 2, 3, 4)
case("nearest_scale_1d", nn.Upsample(scale_factor=2.5), 2, 2, 5)
case("nearest_scale_3d", nn.Upsample(scale_factor=(2, 1.5, 3)), 1, 2, 2, 3, 2)
case("nearest_down", nn.Upsample(size=(2, 3)), 1, 2, 5, 7)
case("bilinear_size", nn.Upsample(size=(5, 7), mode="bilinear"), 1, 2, 3, 4)
case("bilinear_align", nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True), 1, 2, 3, 4)
case("bilinear_scale", nn.Upsample(scale_factor=1.5, mode="bilinear"), 2, 2, 3, 5)
case("bilinear_down", nn.Upsample(size=(3, 2), mode="bilinear"), 1, 2, 7, 5)
case("linear_scale", nn.Upsample(scale_factor=2.5, mode="linear"), 2, 2, 5)
case("trilinear_size", nn.Upsample(size=(3, 5, 4), mode="trilinear"), 1, 2, 2, 3, 2)
case("trilinear_align", nn.Upsample(size=(3, 5, 4), mode="trilinear", align_corners=True), 1, 2, 2, 3, 2)

print(json.dumps(cases))
