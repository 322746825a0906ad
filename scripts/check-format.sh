#!/bin/sh
# Usage: check-format.sh SOURCE_ROOT [CLANG_FORMAT]
# Every C source and header is formatted as .clang-format says: the files
# git tracks under SOURCE_ROOT (every *.c/*.h outside build directories
# when SOURCE_ROOT is not a git checkout).  Fails listing each file that
# `make format` would change.
set -eu
root=$1
clang_format=${2:-clang-format}
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files '*.c' '*.h')
else
	files=$(find . -path './build*' -prune -o -type f \
		\( -name '*.c' -o -name '*.h' \) -print | sort)
fi
if [ -z "$files" ]; then
	echo "check-format: no C files under $root" >&2
	exit 1
fi
bad=0
n=0
for f in $files; do
	n=$((n + 1))
	if ! out=$("$clang_format" --dry-run --Werror "$f" 2>&1); then
		# The first differences, with clang-format's own pointers.
		echo "$out" | head -n 9
		bad=$((bad + 1))
	fi
done
if [ "$bad" -ne 0 ]; then
	echo "check-format: $bad of $n files differ; run \`make format\`" >&2
	exit 1
fi
echo "check-format: $n files, all clang-formatted"
