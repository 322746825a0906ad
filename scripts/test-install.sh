#!/bin/bash
# meson install into a scratch DESTDIR, then build a program against the
# installed header, pkg-config file, shared and static library.
set -euo pipefail
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT

DESTDIR=$dest meson install -C "$build" --no-rebuild --quiet
pc=$(find "$dest" -name zcopy.pc | head -1)
[ -n "$pc" ] || { echo "install: no zcopy.pc installed" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
lib=$(dirname "$(dirname "$pc")")
[ -f "$lib/libzcopy.a" ] || { echo "install: no libzcopy.a" >&2; exit 1; }
[ -n "$(find "$dest" -name zcopy.h -path '*/zcopy/*')" ] ||
	{ echo "install: no zcopy/zcopy.h" >&2; exit 1; }
[ -n "$(find "$dest" -name version.h -path '*/zcopy/*')" ] ||
	{ echo "install: no zcopy/version.h" >&2; exit 1; }
[ -n "$(find "$dest" -name zc_send.3)" ] ||
	{ echo "install: no man pages" >&2; exit 1; }
# The pages carry the project's version, not the placeholder.
if grep -rl '@VERSION@' "$dest" --include='*.[1-9]' >&2; then
	echo "install: man pages above say @VERSION@" >&2
	exit 1
fi

# Every page in the tree is installed, and man finds each installed page.
src=$(cd "$(dirname "$0")/.." && pwd)
pages=$(find "$dest" -path '*/man/man[1-9]/*' -type f | sort)
want=$(find "$src/man" -path '*/man[1-9]/*.[1-9]' -type f | wc -l)
[ "$(echo "$pages" | wc -l)" -eq "$want" ] || {
	echo "install: $want man pages in man/, installed: $pages" >&2
	exit 1
}
MANPATH=$(dirname "$(dirname "$(echo "$pages" | head -1)")")
export MANPATH
for p in $pages; do
	name=$(basename "$p")
	sec=${name##*.}
	name=${name%.*}
	# man follows a ".so man3/OTHER.3" alias to its target.
	target=$(sed -n 's|^\.so \(man[1-9]/.*\)$|\1|p' "$p")
	want=${target:+$MANPATH/$target}
	want=${want:-$p}
	found=$(man -w "$sec" "$name" 2>&1) || found=
	[ "$found" = "$want" ] || {
		echo "install: man -w $sec $name: '$found', not $want" >&2
		exit 1
	}
done
unset MANPATH

cat > "$dest/use.c" <<'C'
#include <errno.h>
#include <string.h>
#include <zcopy/zcopy.h>
int main(void)
{
	struct zc_ctx *ctx;
	int ret = zc_ctx_create(NULL, &ctx);

	if (ret)
		return 1;
	zc_ctx_destroy(ctx);
	if (zc_version() != ZC_VERSION_NUMBER ||
	    strcmp(zc_version_string(), ZC_VERSION_STRING))
		return 1;
	return strstr(zc_strerror(-EINVAL), "invalid") ? 0 : 1;
}
C
cc -o "$dest/use-shared" "$dest/use.c" $(pkg-config --cflags --libs zcopy)
LD_LIBRARY_PATH=$lib "$dest/use-shared"
cc -o "$dest/use-static" "$dest/use.c" $(pkg-config --cflags zcopy) \
	"$lib/libzcopy.a" $(pkg-config --libs-only-l --static zcopy | sed 's/-lzcopy//')
"$dest/use-static"

# The tool is an ordinary user of the installed shared library.
tool=$(find "$dest" -path '*/bin/zcopy' -type f | head -1)
[ -n "$tool" ] || { echo "install: no zcopy tool" >&2; exit 1; }
readelf -d "$tool" | grep -q 'NEEDED.*\[libzcopy\.so\.0\]' ||
	{ echo "install: zcopy does not link libzcopy.so.0" >&2; exit 1; }
LD_LIBRARY_PATH=$lib "$tool" --version | grep -q '^zcopy [0-9]' ||
	{ echo "install: the installed zcopy does not run" >&2; exit 1; }
echo "install: header, pkg-config, shared and static library and the tool" \
	"(on the shared library) work;" \
	"man finds all $(echo "$pages" | wc -l) man pages"
