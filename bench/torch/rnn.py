"""PyTorch twin of bench/rnn_bench.cpp: nn.LSTM / nn.GRU, batch 64, 100 steps, input 128,
hidden 256, 2 layers, time-first; forward+backward of sum(output^2), and LSTM inference."""
import torch
import torch.nn as nn

from common import run

torch.manual_seed(0)
B, T, C, H, L = 64, 100, 128, 256, 2
x = torch.randn(T, B, C)
lstm, gru = nn.LSTM(C, H, num_layers=L), nn.GRU(C, H, num_layers=L)


def train(net):
    def step():
        net.zero_grad(set_to_none=True)
        y, _ = net(x)
        (y * y).sum().backward()
    return step


def lstm_inference():
    with torch.no_grad():
        lstm(x)


run([
    ("BM_LSTMTrain", train(lstm), {}),
    ("BM_GRUTrain", train(gru), {}),
    ("BM_LSTMInference", lstm_inference, {}),
])
