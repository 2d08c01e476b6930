"""Reference trajectories of torch.optim on a fixed quadratic, printed as JSON.

loss(p) = sum(0.5 * a * p^2 + b * p), so grad = a * p + b. Each config runs 6 steps from p0.
"""
import json
import torch

torch.set_default_dtype(torch.float64)
a = torch.tensor([1.0, 2.0, 0.5, 3.0])
b = torch.tensor([0.1, -0.2, 0.3, 0.05])
p0 = [0.5, -1.2, 2.0, 0.1]

configs = {
    "sgd": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum_wd": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True)),
    "adam": (torch.optim.Adam, dict(lr=0.1)),
    "adam_amsgrad_wd": (torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    "adamw": (torch.optim.AdamW, dict(lr=0.1, weight_decay=0.1)),
    "adagrad": (torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01)),
    "rmsprop": (torch.optim.RMSprop, dict(lr=0.01)),
    "rmsprop_centered_momentum": (torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)),
    "adadelta": (torch.optim.Adadelta, dict(lr=1.0, rho=0.8, weight_decay=0.01)),
}
out = {}
for name, (cls, kw) in configs.items():
    p = torch.tensor(p0, requires_grad=True)
    opt = cls([p], **kw)
    traj = []
    for _ in range(6):
        opt.zero_grad()
        p.grad = (a * p + b).detach()
        opt.step()
        traj.append(p.detach().tolist())
    out[name] = traj
print(json.dumps(out))
