"""Learning rates of torch.optim.lr_scheduler over 14 steps, printed as JSON."""
import json
import torch
from torch.optim import lr_scheduler as S

def run(make, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    lrs = []
    for i in range(14):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append(opt.param_groups[0]["lr"])
    return lrs

plateau_metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.85, 0.85, 0.85, 0.85, 0.85, 0.5, 0.5, 0.5, 0.5]
out = {
    "step": run(lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    "multistep": run(lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3)),
    "exponential": run(lambda o: S.ExponentialLR(o, gamma=0.9)),
    "cosine": run(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    "warm_restarts": run(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001)),
    "linear": run(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4)),
    "onecycle": run(lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=15, pct_start=0.3)),
    "plateau": run(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2), plateau_metrics),
}
print(json.dumps(out))
