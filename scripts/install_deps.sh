#!/usr/bin/env bash
# Installs the Debian packages nabla builds, tests and benchmarks with; does nothing when
# they are all present. PyTorch (python3-torch) is the reference for numerics tests and benchmarks.
set -euo pipefail
pkgs=(cmake ninja-build g++ libgtest-dev libbenchmark-dev libdnnl-dev nlohmann-json3-dev
      zlib1g-dev libstb-dev libdlpack-dev libcli11-dev ccache python3-torch python3-numpy
      dataset-fashion-mnist
      fortunes fortunes-de fortunes-es fortunes-it  # text examples (char LM, language id)
      python3-statsmodels                           # forecast example reads its sunspots CSV
      espeak-ng)                                    # spoken-digits example synthesises its data
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
