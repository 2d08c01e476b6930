"""Attention in PyTorch (1.13), as JSON, for tests/attention/torch_compare_test.cpp.

Each case: the inputs (floating ones get gradients), masks (bool masks as 0/1 with "bool"),
the module's state_dict (modules only), the output, the attention weights where asked, a
loss weighting w and the gradients of sum(output * w) with respect to the floating inputs
and every parameter. scaled_dot_product_attention is written out with matmul and softmax
(torch 1.13 has no F.scaled_dot_product_attention), as PyTorch 2's documented math.
"""
import json
import math

import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def enc(t):
    # JSON has no infinities: -inf (a mask's "masked out") becomes -1e300, which masks the same.
    data = t.detach().double().flatten().nan_to_num(neginf=-1e300).tolist()
    out = {"shape": list(t.shape), "data": data}
    if t.dtype == torch.bool:
        out["bool"] = True
    return out


def finish(case, out, inputs, module=None, weights=None):
    w = torch.rand(out.shape) + 0.5
    if module is not None:
        module.zero_grad()
    (out * w).sum().backward()
    case["output"] = enc(out)
    case["w"] = enc(w)
    if weights is not None:
        case["weights"] = enc(weights)
    case["grads"] = {k: enc(v.grad) for k, v in inputs.items() if v.dtype != torch.bool and v.grad is not None}
    if module is not None:
        case["grads"].update({k: enc(p.grad) for k, p in module.named_parameters()})
    return case


def sdpa(q, k, v, mask=None, causal=False, scale=None):
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ k.transpose(-1, -2) * scale
    if causal:
        s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


def sdpa_case(qs, ks, vs, mask=None, causal=False, scale=None):
    ins = {"q": torch.randn(qs), "k": torch.randn(ks), "v": torch.randn(vs)}
    if mask is not None:
        ins["mask"] = mask
    for t in ins.values():
        if t.dtype != torch.bool:
            t.requires_grad_(True)
    case = {"inputs": {k: enc(v) for k, v in ins.items()}, "causal": causal, "scale": scale}
    return finish(case, sdpa(ins["q"], ins["k"], ins["v"], ins.get("mask"), causal, scale), ins)


def keep_mask(shape):
    m = torch.rand(shape) > 0.4
    m[..., 0] = True  # no row fully masked out
    return m


def module_case(module, inputs, call):
    module.train()
    for t in inputs.values():
        if t.dtype != torch.bool:
            t.requires_grad_(True)
    case = {"inputs": {k: enc(v) for k, v in inputs.items()},
            "state": {k: enc(v) for k, v in module.state_dict().items()}}
    out = call(module, inputs)
    weights = None
    if isinstance(out, tuple):
        out, weights = out
    return finish(case, out, inputs, module, weights)


def pad_mask(n, s):
    m = torch.zeros(n, s, dtype=torch.bool)
    m[0, -2:] = True
    m[-1, -1] = True
    return m


E = 8
cases = {
    "sdpa_float_mask": sdpa_case((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), mask=torch.randn(4, 6)),
    "sdpa_bool_mask": sdpa_case((2, 4, 5), (2, 6, 5), (2, 6, 3), mask=keep_mask((2, 4, 6)), scale=0.3),
    "sdpa_causal": sdpa_case((3, 5, 4), (3, 5, 4), (3, 5, 4), causal=True),
    "sdpa_causal_rect": sdpa_case((2, 4, 4), (2, 6, 4), (2, 6, 3), causal=True),
    "sdpa_broadcast": sdpa_case((2, 1, 3, 4), (3, 5, 4), (1, 5, 2), mask=torch.randn(2, 1, 1, 5)),
    "mha_self_padding": module_case(
        nn.MultiheadAttention(E, 2),
        {"x": torch.randn(5, 3, E), "kpm": pad_mask(3, 5), "mask": torch.randn(5, 5)},
        lambda m, i: m(i["x"], i["x"], i["x"], key_padding_mask=i["kpm"], attn_mask=i["mask"])),
    "mha_cross_batch_first": module_case(
        nn.MultiheadAttention(E, 4, batch_first=True, kdim=6, vdim=4),
        {"q": torch.randn(2, 3, E), "k": torch.randn(2, 5, 6), "v": torch.randn(2, 5, 4),
         "mask": ~keep_mask((3, 5))},
        lambda m, i: m(i["q"], i["k"], i["v"], attn_mask=i["mask"], average_attn_weights=False)),
    "mha_unbatched_no_bias": module_case(
        nn.MultiheadAttention(E, 2, bias=False),
        {"q": torch.randn(4, E), "k": torch.randn(6, E), "v": torch.randn(6, E)},
        lambda m, i: m(i["q"], i["k"], i["v"])),
    "mha_3d_mask_no_weights": module_case(
        nn.MultiheadAttention(E, 2, batch_first=True),
        {"x": torch.randn(2, 4, E), "mask": torch.randn(4, 4, 4), "kpm": pad_mask(2, 4)},
        lambda m, i: m(i["x"], i["x"], i["x"], attn_mask=i["mask"], key_padding_mask=i["kpm"], need_weights=False)[0]),
    "encoder_layer_post_relu": module_case(
        nn.TransformerEncoderLayer(E, 2, dim_feedforward=16, dropout=0.0),
        {"x": torch.randn(5, 3, E), "kpm": pad_mask(3, 5)},
        lambda m, i: m(i["x"], src_key_padding_mask=i["kpm"])),
    "encoder_layer_pre_gelu": module_case(
        nn.TransformerEncoderLayer(E, 2, dim_feedforward=16, dropout=0.0, activation="gelu", norm_first=True,
                                   batch_first=True, layer_norm_eps=1e-6),
        {"x": torch.randn(3, 5, E), "mask": nn.Transformer.generate_square_subsequent_mask(5).double()},
        lambda m, i: m(i["x"], src_mask=i["mask"])),
    "encoder_stack": module_case(
        nn.TransformerEncoder(nn.TransformerEncoderLayer(E, 2, dim_feedforward=16, dropout=0.0), 2,
                              norm=nn.LayerNorm(E), enable_nested_tensor=False),
        {"x": torch.randn(5, 2, E), "kpm": pad_mask(2, 5)},
        lambda m, i: m(i["x"], src_key_padding_mask=i["kpm"])),
}
print(json.dumps(cases))
