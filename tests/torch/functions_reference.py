"""Values and gradients of composite functions and nn losses/layers in PyTorch, as JSON.

Each case: inputs (shape + float64 data), the output, and the gradient of sum(output * w)
for a fixed weighting w (given too) with respect to every floating input.
The C++ test (tests/nn/torch_compare_test.cpp) computes the same functions in nabla.
"""
import json
import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def t(*shape, lo=-2.0, hi=2.0):
    return (torch.rand(*shape) * (hi - lo) + lo)


cases = {}


def case(name, fn, inputs, consts=()):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    args = xs + list(consts)
    out = fn(*args)
    w = torch.rand(out.shape) + 0.5
    (out * w).sum().backward()
    cases[name] = {
        "inputs": [{"shape": list(x.shape), "data": x.detach().flatten().tolist()} for x in xs],
        "consts": [{"shape": list(x.shape), "data": x.flatten().tolist(), "integer": not x.is_floating_point()} for x in consts],
        "weight": {"shape": list(w.shape), "data": w.flatten().tolist()},
        "output": {"shape": list(out.shape), "data": out.detach().flatten().tolist()},
        "grads": [x.grad.flatten().tolist() for x in xs],
    }


target = torch.randint(0, 5, (6,))
target_ignore = target.clone()
target_ignore[1] = -100
probs = torch.softmax(t(6, 5), 1)

# composite functions (autograd numerics)
case("mlp_tanh_logsumexp", lambda x, w1, w2: torch.logsumexp(torch.tanh(x @ w1) @ w2, 1), [t(4, 3), t(3, 5), t(5, 2)])
case("softmax_weighted", lambda x: (torch.softmax(x, 1) * torch.arange(5.0)).sum(1), [t(3, 5)])
case("gelu_sigmoid_mix", lambda x, y: F.gelu(x) * torch.sigmoid(y) + torch.exp(-x * x), [t(2, 3), t(2, 3)])
case("norm_var", lambda x: x.norm(dim=1) + x.var(dim=1) + x.std(dim=0).sum(), [t(4, 3)])
case("gather_cumsum", lambda x: torch.cumsum(x, 1).gather(1, torch.tensor([[0, 2], [1, 1], [2, 0]])), [t(3, 3)])
case("where_max", lambda x, y: torch.where(x > y, x * y, x.abs()) .amax(dim=0), [t(3, 4), t(3, 4)])
case("pow_div_log", lambda x, y: (x ** 2 + 1).log() / (y * y + 1) + torch.sqrt(y * y + 0.5), [t(5), t(5)])
case("einsum_batch", lambda a, b: torch.einsum("bij,bjk->bik", a, b).relu(), [t(2, 3, 4), t(2, 4, 2)])

# layers (functional forms with explicit weights)
case("linear", lambda x, w, b: F.linear(x, w, b), [t(4, 6), t(3, 6), t(3)])
case("conv2d_stride_pad", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [t(2, 3, 7, 7), t(4, 3, 3, 3), t(4)])
case("conv2d_groups_dilation", lambda x, w: F.conv2d(x, w, None, padding=2, dilation=2, groups=2), [t(1, 4, 6, 6), t(4, 2, 3, 3)])
case("max_pool2d", lambda x: F.max_pool2d(x, 2), [t(2, 2, 6, 6)])
case("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1), [t(1, 2, 7, 7)])
case("log_softmax", lambda x: F.log_softmax(x, 1), [t(3, 4)])

# losses
case("cross_entropy", lambda x, y: F.cross_entropy(x, y), [t(6, 5)], [target])
case("cross_entropy_weight_ignore_smooth",
     lambda x, y, w: F.cross_entropy(x, y, weight=w, ignore_index=-100, label_smoothing=0.1),
     [t(6, 5)], [target_ignore, t(5, lo=0.5, hi=2.0)])
case("cross_entropy_probs", lambda x, p: F.cross_entropy(x, p, label_smoothing=0.2), [t(6, 5), probs])
case("cross_entropy_sum_none", lambda x, y: F.cross_entropy(x, y, reduction="none"), [t(6, 5)], [target])
case("nll_loss", lambda x, y: F.nll_loss(F.log_softmax(x, 1), y, reduction="sum"), [t(6, 5)], [target])
case("mse_loss", lambda x, y: F.mse_loss(x, y), [t(3, 4), t(3, 4)])
case("l1_loss", lambda x, y: F.l1_loss(x, y, reduction="sum"), [t(3, 4), t(3, 4)])
case("smooth_l1_loss", lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), [t(3, 4), t(3, 4)])
case("huber_loss", lambda x, y: F.huber_loss(x, y, delta=0.7), [t(3, 4), t(3, 4)])
case("bce", lambda x, y: F.binary_cross_entropy(x, y), [t(3, 4, lo=0.05, hi=0.95)], [t(3, 4, lo=0.0, hi=1.0)])
case("bce_with_logits", lambda x, y, pw: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
     [t(3, 4)], [t(3, 4, lo=0.0, hi=1.0), t(4, lo=0.5, hi=2.0)])
case("kl_div", lambda x, y: F.kl_div(F.log_softmax(x, 1), y, reduction="sum"), [t(3, 4), torch.softmax(t(3, 4), 1)])
case("cosine_embedding", lambda a, b: F.cosine_embedding_loss(a, b, torch.tensor([1.0, -1.0, 1.0, -1.0]), margin=0.1),
     [t(4, 5), t(4, 5)])
case("margin_ranking", lambda a, b: F.margin_ranking_loss(a, b, torch.tensor([1.0, -1.0, 1.0]), margin=0.3),
     [t(3), t(3)])

print(json.dumps(cases))
