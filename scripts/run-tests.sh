#!/bin/bash
# Run every test suite in the plain and the sanitizer build, then print one
# summary line for both.  Exit status is non-zero if anything failed.
set -uo pipefail
build=${1:-build}
san=${2:-build-san}
status=0

echo "== tests: $build (all suites)"
meson test -C "$build" --print-errorlogs --no-rebuild || status=1
echo "== tests: $san (ASan + UBSan, fuzz)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C "$san" --print-errorlogs --no-rebuild \
	--no-suite lint --no-suite bench || status=1

python3 scripts/summary.py "$build" "$san" || status=1
exit $status
