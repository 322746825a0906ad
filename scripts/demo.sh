#!/bin/bash
# The main job: what zero-copy really does here, then the benchmark sweep.
set -euo pipefail
build=${1:-build}
"$build/tools/zcopy" --version
"$build/tools/zcopy" probe
