"""PyTorch twin of bench/conv3d_train_bench.cpp: the video example's Conv3d network, forward +
backward of both heads' cross-entropy on 32 clips (1 x 8 x 48 x 48), and the same plus an Adam step."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import run

torch.manual_seed(0)
trunk = nn.Sequential(nn.Conv3d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
                      nn.Conv3d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
                      nn.Conv3d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
                      nn.Flatten(), nn.Linear(64 * 6 * 6, 128), nn.ReLU())
motion, item = nn.Linear(128, 9), nn.Linear(128, 10)
params = list(trunk.parameters()) + list(motion.parameters()) + list(item.parameters())
opt = torch.optim.Adam(params, lr=1e-3)
x = torch.rand(32, 1, 8, 48, 48)
ym = torch.randint(0, 9, (32,))
yi = torch.randint(0, 10, (32,))


def loss():
    f = trunk(x)
    return F.cross_entropy(motion(f), ym) + F.cross_entropy(item(f), yi)


def backward():
    opt.zero_grad(set_to_none=True)
    loss().backward()


def train_step():
    opt.zero_grad(set_to_none=True)
    loss().backward()
    opt.step()


run([
    ("BM_Conv3dBackward", backward, {}),
    ("BM_Conv3dTrainStep", train_step, {}),
])
