#!/usr/bin/env bash
# The main job: installs what is missing, builds, trains the Fashion-MNIST benchmark's
# "2 Conv+pooling" CNN on the real data (Debian's dataset-fashion-mnist), prints the test
# accuracy and confusion matrix, and saves the model to fashion_mnist_cnn.safetensors.
# Extra arguments go to the trainer, e.g. `bash scripts/main.sh --epochs 1`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target fashion_mnist
./build/examples/fashion_mnist "$@"
