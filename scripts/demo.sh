#!/bin/bash
# The main job: what zero-copy really does on this machine (zcopy probe),
# then the benchmark sweep on loopback with its plot.
set -euo pipefail
build=${1:-build}
plot=${PLOT:-zcopy-bench.png}
zcopy=$build/tools/zcopy

"$zcopy" --version
# zcopy probe comes with its own branch; older builds do not have it.
if "$zcopy" probe --help >/dev/null 2>&1; then
	"$zcopy" probe
	echo
else
	echo "(this build has no 'zcopy probe'; going on with the benchmark)"
fi
"$zcopy" bench --plot "$plot"
echo "plot: $(realpath "$plot")"
