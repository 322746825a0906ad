#!/bin/sh
# Usage: check-symbols.sh LIBZCOPY_SO HEADER MAP
# The shared library exports exactly the ZC_API functions of HEADER, each
# with a default version (name@@NODE) whose node MAP (the ld version
# script) defines, and nothing else.
set -eu
lib=$1
header=$2
map=$3
nodes=$(sed -n 's/^\(ZCOPY_[0-9.]*\) *{.*/\1/p' "$map")
if [ -z "$nodes" ]; then
	echo "no ZCOPY_* version node in $map" >&2
	exit 1
fi
want=$(sh "$(dirname "$0")/api-functions.sh" "$header")
bad=0
got=
# "VALUE TYPE NAME@@NODE"; each node is also an absolute symbol, unversioned.
for sym in $(nm -D --defined-only "$lib" | awk '{ print $NF }'); do
	name=${sym%%@*}
	ver=${sym##*@}
	if [ "$sym" = "$name" ] && echo "$nodes" | grep -qxF "$name"; then
		continue
	fi
	case $name in
	zc_*) ;;
	*)
		echo "exported, not zc_*: $sym" >&2
		bad=1
		;;
	esac
	if [ "$sym" != "$name@@$ver" ] || ! echo "$nodes" | grep -qxF "$ver"; then
		echo "not in a version node of $(basename "$map"): $sym" >&2
		bad=1
	fi
	got="$got$name
"
done
for f in $want; do
	if ! printf '%s' "$got" | grep -qxF "$f"; then
		echo "declared ZC_API in $(basename "$header"), not exported: $f" >&2
		bad=1
	fi
done
for f in $got; do
	if ! echo "$want" | grep -qxF "$f"; then
		echo "exported, not declared ZC_API: $f" >&2
		bad=1
	fi
done
[ "$bad" -eq 0 ] && echo "$(echo "$want" | wc -l) ZC_API functions exported," \
	"versioned $(echo "$nodes" | tr '\n' ' ')and nothing else"
exit "$bad"
