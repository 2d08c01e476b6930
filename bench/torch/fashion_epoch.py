"""PyTorch twin of examples/mlp and examples/fashion_mnist for bench/epoch_compare.sh.

Trains the same network (mlp: 784-256-128-10 ReLU; cnn: the Fashion-MNIST "2 Conv+pooling"
net) on the same data for N epochs: Adam lr 1e-3, batch 64, shuffled each epoch, cross-entropy.
The time of an epoch is the training loop only (batching included), as in the C++ examples,
wall-clock and process CPU time (all threads);
the test accuracy is measured after the last epoch with batches of 500.
Prints one line "json: {...}" like the C++ examples' --json.

usage: fashion_epoch.py {mlp,cnn} [--epochs N] [--threads N] [--train-limit N] [--data DIR]
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data, split):
    images = torch.from_numpy(read_idx(f"{data}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    labels = torch.from_numpy(read_idx(f"{data}/{split}-labels-idx1-ubyte.gz").astype(np.int64))
    return images.unsqueeze(1), labels  # (N, 1, 28, 28) in [0, 1], (N,)


def make_net(model):
    if model == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Dropout(0.4), nn.Linear(1024, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["mlp", "cnn"])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-limit", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    x_train, y_train = load(args.data, "train")
    x_test, y_test = load(args.data, "t10k")
    if args.train_limit > 0:
        x_train, y_train = x_train[:args.train_limit], y_train[:args.train_limit]
    net = make_net(args.model)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    epoch_seconds, epoch_cpu_seconds = [], []
    n = x_train.shape[0]
    for epoch in range(args.epochs):
        net.train()
        start, cpu_start = time.perf_counter(), time.process_time()
        order = torch.randperm(n)
        for i in range(0, n, args.batch_size):
            idx = order[i:i + args.batch_size]
            loss = F.cross_entropy(net(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        epoch_seconds.append(time.perf_counter() - start)
        epoch_cpu_seconds.append(time.process_time() - cpu_start)
        print(f"epoch {epoch + 1}: {epoch_seconds[-1]:.2f} s, last batch loss {loss.item():.4f}", flush=True)

    net.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, x_test.shape[0], 500):
            right += (net(x_test[i:i + 500]).argmax(1) == y_test[i:i + 500]).sum().item()
    acc = right / x_test.shape[0]
    result = {"model": args.model, "epoch_seconds": epoch_seconds, "epoch_cpu_seconds": epoch_cpu_seconds,
              "samples_per_s": n * len(epoch_seconds) / sum(epoch_seconds), "test_accuracy": acc,
              "torch": torch.__version__, "threads": torch.get_num_threads()}
    print("json: " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
