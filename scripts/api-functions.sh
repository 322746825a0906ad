#!/bin/sh
# Usage: api-functions.sh HEADER
# Print the ZC_API functions declared in HEADER, one per line; fail if
# there are none or if a declaration is not on one line (the pattern could
# not read it).
set -eu
header=$1
fns=$(sed -n 's/^ZC_API[^(]*[ *]\(zc_[A-Za-z0-9_]*\)(.*/\1/p' "$header")
if [ -z "$fns" ]; then
	echo "no ZC_API functions found in $header" >&2
	exit 1
fi
if [ "$(grep -c '^ZC_API ' "$header")" -ne "$(echo "$fns" | wc -l)" ]; then
	echo "some ZC_API declarations in $header are not on one line" >&2
	exit 1
fi
echo "$fns"
