#!/bin/sh
# Usage: run-fuzz.sh FUZZER WORK_CORPUS SEED_CORPUS [libFuzzer flags...]
# libFuzzer writes new inputs into the first corpus directory, so that one
# is scratch space; the seed corpus after it is only read.
set -eu
exe=$1
work=$2
seeds=$3
shift 3
mkdir -p "$work"
exec "$exe" "$@" "$work" "$seeds"
