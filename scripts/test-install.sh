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
echo "install: header, pkg-config, shared and static library work"
