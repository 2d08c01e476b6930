"""PyTorch twin of bench/model_bench.cpp: MLP forward+backward and a CNN Adam step, batch 64."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import run

torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
x = torch.rand(64, 784)
y = torch.randint(0, 10, (64,))


def mlp_backward():
    mlp.zero_grad(set_to_none=True)
    F.cross_entropy(mlp(x), y).backward()


cnn = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Dropout(0.4), nn.Linear(1024, 10))
opt = torch.optim.Adam(cnn.parameters(), lr=1e-3)
xi = torch.rand(64, 1, 28, 28)


def cnn_step():
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(cnn(xi), y).backward()
    opt.step()


run([
    ("BM_MlpBackward", mlp_backward, {}),
    ("BM_CnnTrainStep", cnn_step, {}),
])
