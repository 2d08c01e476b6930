"""PyTorch twin of bench/conv_bench.cpp: the CNN's 2-d convolutions (batch 64, 5x5, padding 2),
3-d convolution on 8 clips of 8 frames (3x3x3, padding 1) and a DCGAN-like transposed
convolution (4x4, stride 2, padding 1); flop counts as in the C++ file."""
import torch
import torch.nn.functional as F

from common import run


def filled(shape, scale):
    n = 1
    for s in shape:
        n *= s
    return (torch.sin(torch.arange(n, dtype=torch.float64) * 0.7) * scale).float().reshape(shape)


def zero(*ts):
    for t in ts:
        t.grad = None


cases = []
for c, o, hw in ((1, 32, 28), (32, 64, 14)):
    x, w, b = filled((64, c, hw, hw), 1), filled((o, c, 5, 5), 0.1), filled((o,), 0.1)
    cases.append((f"conv_forward/{c}/{o}/{hw}",
                  (lambda x, w, b: lambda: F.conv2d(x, w, b, padding=2))(x, w, b), {}))
    xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()
    g = filled((64, o, hw, hw), 1)

    def step(x=xg, w=wg, b=bg, g=g):
        F.conv2d(x, w, b, padding=2).backward(g)
        zero(x, w, b)
    cases.append((f"conv_forward_backward/{c}/{o}/{hw}", step, {}))

for c, o, hw, input_grad in ((3, 16, 32, 0), (16, 32, 16, 1)):
    x, w, b = filled((8, c, 8, hw, hw), 1), filled((o, c, 3, 3, 3), 0.1), filled((o,), 0.1)
    flop = 2.0 * 8 * o * c * 27 * 8 * hw * hw
    cases.append((f"BM_Conv3dForward/{c}/{o}/{hw}",
                  (lambda x, w, b: lambda: F.conv3d(x, w, b, padding=1))(x, w, b),
                  {"flop": flop}))
    xg = x.clone().requires_grad_(bool(input_grad))
    wg, bg = w.clone().requires_grad_(), b.clone().requires_grad_()
    g = filled((8, o, 8, hw, hw), 1)

    def step(x=xg, w=wg, b=bg, g=g):
        F.conv3d(x, w, b, padding=1).backward(g)
        zero(x, w, b)
    cases.append((f"BM_Conv3dForwardBackward/{c}/{o}/{hw}/{input_grad}", step,
                  {"flop": (3 if input_grad else 2) * flop}))

c, o, hw = 64, 32, 16
x = filled((16, c, hw, hw), 1).requires_grad_()
w, b = filled((c, o, 4, 4), 0.1).requires_grad_(), filled((o,), 0.1).requires_grad_()
g = filled((16, o, 2 * hw, 2 * hw), 1)


def transpose_step():
    F.conv_transpose2d(x, w, b, stride=2, padding=1).backward(g)
    zero(x, w, b)


cases.append((f"BM_ConvTranspose2dForwardBackward/{c}/{o}/{hw}", transpose_step,
              {"flop": 3 * 2.0 * 16 * c * o * 16 * hw * hw}))
run(cases)
