#!/bin/sh
# Usage: check-man.sh HEADER MAN3_DIR
# Every ZC_API function declared in HEADER must have man3/NAME.3, either a
# page that names it or a ".so man3/OTHER.3" alias to one, and every page
# must be installed by man/meson.build, as must every man1 page beside it.
# Every page (man1 too) takes its version from the build: its .TH line says
# "zcopy @VERSION@".
set -eu
header=$1
mandir=$2
fns=$(sh "$(dirname "$0")/api-functions.sh" "$header")
bad=0
n=0
for f in $fns; do
	n=$((n + 1))
	page=$mandir/$f.3
	if [ ! -f "$page" ]; then
		echo "missing man page: man3/$f.3" >&2
		bad=1
		continue
	fi
	target=$(sed -n 's|^\.so man3/\(.*\)$|\1|p' "$page")
	if [ -n "$target" ]; then
		page=$mandir/$target
		if [ ! -f "$page" ]; then
			echo "$f.3: alias to missing man3/$target" >&2
			bad=1
			continue
		fi
	fi
	if ! grep -qw "$f" "$page"; then
		echo "$(basename "$page") does not document $f" >&2
		bad=1
	fi
done
build=$(dirname "$mandir")/meson.build
for page in "$mandir"/*.3 "$(dirname "$mandir")"/man1/*.1; do
	sec=$(basename "$(dirname "$page")")
	if ! grep -q "'$sec/$(basename "$page")'" "$build"; then
		echo "$sec/$(basename "$page") is not installed by $build" >&2
		bad=1
	fi
done
for page in "$mandir"/*.3 "$(dirname "$mandir")"/man1/*.1; do
	if grep -q '^\.so ' "$page"; then
		continue
	fi
	if ! grep -q '^\.TH .*"zcopy @VERSION@"' "$page"; then
		echo "$page: .TH must say \"zcopy @VERSION@\"" >&2
		bad=1
	fi
done
[ "$bad" -eq 0 ] && echo "$n ZC_API functions, each with a man page"
exit "$bad"
