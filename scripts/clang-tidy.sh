#!/bin/sh
# Usage: clang-tidy.sh SOURCE_ROOT BUILD_DIR
# clang-tidy over every C file in src/ and tools/ (their headers too, via
# HeaderFilterRegex), with the build's compile_commands.json and the repo's
# .clang-tidy.
set -eu
root=$1
build=$2
files=$(find "$root/src" "$root/tools" -maxdepth 1 -name '*.c' | sort)
# The gcc build's -ffat-lto-objects is unknown to clang: not a finding.
# shellcheck disable=SC2086 # one argument per file
exec clang-tidy -p "$build" --quiet \
	--extra-arg=-Wno-ignored-optimization-argument $files
