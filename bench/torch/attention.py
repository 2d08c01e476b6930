"""PyTorch twin of bench/attention_bench.cpp: TransformerEncoderLayer (d_model 256, 4 heads,
defaults otherwise) forward+backward in training and forward in eval without gradients on
(32, 128, 256) batch-first inputs, and scaled dot-product attention on (32, 4, 128, 64).
torch 1.13 has no F.scaled_dot_product_attention: the twin is the math its MultiheadAttention
runs (softmax(q k^T * scale [+ causal mask]) v), which PyTorch 2 documents as the reference."""
import math

import torch
import torch.nn as nn

from common import run

torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(256, 4, batch_first=True)
x = torch.randn(32, 128, 256)


def train_step():
    layer.train()
    layer.zero_grad(set_to_none=True)
    layer(x).mean().backward()


eval_layer = nn.TransformerEncoderLayer(256, 4, batch_first=True).eval()


def inference():
    with torch.no_grad():
        eval_layer(x)


q, k, v = (torch.randn(32, 4, 128, 64) for _ in range(3))
causal = torch.full((128, 128), float("-inf")).triu(1)


def sdpa(mask=None):
    with torch.no_grad():
        s = q @ k.transpose(-1, -2) * (1 / math.sqrt(64))
        if mask is not None:
            s = s + mask
        return torch.softmax(s, -1) @ v


flop = {"flop": 2.0 * 2 * 32 * 4 * 128 * 128 * 64}
run([
    ("BM_EncoderLayerTrainStep", train_step, {}),
    ("BM_EncoderLayerInference", inference, {}),
    ("BM_SdpaForward", sdpa, flop),
    ("BM_SdpaCausalForward", lambda: sdpa(causal), flop),
])
