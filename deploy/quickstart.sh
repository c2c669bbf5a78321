#!/usr/bin/env bash
#  The main job: install dependencies, build, and run darkscope on the
#  built-in synthetic month, writing report/index.html and report/overview.json.
#  Usage: bash deploy/quickstart.sh [extra `darkscope run` flags]
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
mkdir -p report
build/bin/darkscope run --report report --json report/overview.json "$@"
echo "report: $(pwd)/report/index.html"
