#!/usr/bin/env bash
# The whole test suite, as CI runs it: dependencies, a clean Release build, every test,
# then the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
jobs=$(nproc)
stamp() { echo "== $(date +%T) $*"; }
stamp "dependencies ready"

# ctest -j runs several multi-threaded tests at once on few cores: libgomp's default spin-wait
# then burns the cores other tests need (measured 10-15x slower training when oversubscribed).
export OMP_WAIT_POLICY=passive

rm -rf build-ci
cmake -S . -B build-ci -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build-ci -j "$jobs"
stamp "release build done"
(cd build-ci && ctest -j "$jobs" --output-on-failure)
stamp "release tests done"

rm -rf build-asan
# -O1 without debug info: the sanitizer build compiles ~40% faster than at -O2 -g (it is most
# of CI's time); reports still name functions (frame pointers are kept).
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -DNDEBUG" \
  -DNABLA_SANITIZE=ON -DNABLA_BUILD_BENCH=OFF
cmake --build build-asan -j "$jobs" --target core_test op_table_test autograd_test compile_test io_test nn_test optim_test data_test train_test contract_test tools_test \
  rnn_test attention_test signal_test seqex_test rbm_test gan_test ae_test
stamp "sanitizer build done"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest -j "$jobs" --output-on-failure -E "install_consumer|oplist|example_")
stamp "sanitizer tests done"
