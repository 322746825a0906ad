#!/bin/bash
# Usage: test-minimal-build.sh SOURCE_ROOT
# The library needs liburing only: configure a scratch build with the
# cmocka tests and jansson turned off (as if both were missing), build it,
# and check what was left out is left out, and said so.
set -euo pipefail
src=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
b=$dir/build

fail() {
	echo "minimal-build: $*" >&2
	exit 1
}

meson setup "$b" "$src" -Dtests=disabled -Djson=disabled -Db_lto=false \
	-Doptimization=0 -Dwerror=true >"$dir/setup.log" 2>&1 ||
	{ cat "$dir/setup.log"; fail "meson setup failed"; }
grep -q 'unit and network tests (-Dtests) *: *NO' "$dir/setup.log" ||
	fail "the summary does not say the cmocka tests are left out"
grep -q 'zcopy --json (-Djson) *: *NO' "$dir/setup.log" ||
	fail "the summary does not say --json is left out"
ninja -C "$b" >"$dir/ninja.log" 2>&1 ||
	{ tail -40 "$dir/ninja.log"; fail "build failed"; }

[ -x "$b/tools/zcopy" ] || fail "no zcopy tool"
ls "$b"/src/libzcopy.so* >/dev/null || fail "no shared library"
[ -z "$(find "$b/tests" -name 'test_*' -type f -perm -u+x)" ] ||
	fail "cmocka tests were built with -Dtests=disabled"
for f in "$b"/src/libzcopy.so "$b/tools/zcopy"; do
	if ldd "$f" | grep -E 'cmocka|jansson'; then
		fail "$f links cmocka or jansson"
	fi
done
for cmd in probe bench; do
	set +e
	err=$("$b/tools/zcopy" "$cmd" --json 2>&1 >/dev/null)
	st=$?
	set -e
	if [ "$st" -ne 2 ] || ! grep -q 'without JSON' <<<"$err"; then
		fail "zcopy $cmd --json: status $st, '$err'"
	fi
done
echo "minimal-build: library and tool build with liburing alone;" \
	"tests and --json left out, and the summary says so"
