#!/bin/sh
# Usage: clang-tidy.sh SOURCE_ROOT BUILD_DIR
# clang-tidy over every C file in src/, tools/, tests/, bench/ and examples/ (their
# headers too, via HeaderFilterRegex) with the build's
# compile_commands.json, and over fuzz/ with the flags its targets are
# built with (the plain build does not build them: they need clang's
# -fsanitize=fuzzer, which only links; no libFuzzer header is included).
# TIDY_JOBS files at a time (default 2).
set -eu
root=$1
build=$2
jobs=${TIDY_JOBS:-2}
fail=0

# gcc's -ffat-lto-objects (LTO build) means nothing to clang: ignore it.
find "$root/src" "$root/tools" "$root/tests" "$root/bench" "$root/examples" -maxdepth 1 \
	-name '*.c' | sort |
	xargs -n 1 -P "$jobs" clang-tidy -p "$build" --quiet \
		--extra-arg=-Wno-ignored-optimization-argument || fail=1

# shellcheck disable=SC2016 # $0 and $1 are the inner shell's
find "$root/fuzz" -maxdepth 1 -name '*.c' | sort |
	xargs -n 1 -P "$jobs" sh -c 'clang-tidy --quiet "$1" -- -std=c11 \
		-D_GNU_SOURCE -I"$0/include" -I"$0/src" -I"$0/tools"' \
		"$root" || fail=1
exit "$fail"
