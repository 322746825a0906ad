#!/bin/bash
# The main job: what zero-copy really does on this machine (zcopy probe),
# then the benchmark sweep on loopback with its plot.
set -euo pipefail
build=${1:-build}
plot=${PLOT:-zcopy-bench.png}
zcopy=$build/tools/zcopy

"$zcopy" --version
"$zcopy" probe
echo
"$zcopy" bench --plot "$plot"
echo "plot: $(realpath "$plot")"
