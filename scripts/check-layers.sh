#!/bin/bash
# Usage: check-layers.sh [--report] [SOURCE_ROOT]
# The layering rule of ARCHITECTURE.md: a file never includes a header of
# a higher layer.  Transports see only transport.h and the core, never a
# socket/context header.  Every file of src/, bench/core/ and tools/ must
# be in the table below (first matching glob wins), so a new file is
# placed on purpose.  The bench core sits beside the library, not on it:
# plain system calls, so it may include nothing of src/ at all.  Prints each violation as
#   FILE: includes HEADER (layer HIGHER > layer LOWER)
# and exits 1 if there is any; with --report (or CHECK_LAYERS_REPORT=1)
# it prints them and exits 0.
set -euo pipefail

# ---- the layers, low to high, and which files are in each ---------------
LAYERS=(core transport socket benchcore tools)
TABLE='
src/ubuf.*		core
src/buf.*		core
src/region.*		core
src/pool.*		core
src/tracker.*		core
src/util.h		core
src/compat.h		core
src/error.c		core
src/names.c		core
src/policy.*		core
src/sockreg.*		core
src/version.c		core
src/abi.h		core
src/zcrx.*		core
src/devmem.*		core
src/shm_proto.*		core
src/transport.h		transport
src/rxpool.*		transport
src/dmabuf.*		transport
src/netdev*		transport
src/shm_chan.*		transport
src/transport_*.c	transport
src/uring.*		transport
src/sock*		socket
src/ctx.*		socket
src/send.c		socket
src/send_file.c		socket
src/recv.c		socket
src/thread.c		socket
src/devsock.c		socket
bench/core/*		benchcore
tools/*			tools
'
# --------------------------------------------------------------------------

report=${CHECK_LAYERS_REPORT:-0}
if [ "${1:-}" = --report ]; then
	report=1
	shift
fi
root=${1:-$(dirname "$0")/..}
cd "$root"

# layer_of PATH: the layer's rank (0 = lowest) and name, or nothing.
layer_of() {
	local glob layer i
	while read -r glob layer; do
		[ -n "$glob" ] || continue
		# shellcheck disable=SC2053 # the glob is meant to match
		if [[ $1 == $glob ]]; then
			for i in "${!LAYERS[@]}"; do
				if [ "${LAYERS[$i]}" = "$layer" ]; then
					echo "$i $layer"
					return
				fi
			done
			echo "check-layers: $glob: unknown layer $layer" >&2
			exit 2
		fi
	done <<<"$TABLE"
}

bad=0
files=0
for f in src/*.[ch] bench/core/*.[ch] tools/*.[ch]; do
	[ -e "$f" ] || continue
	files=$((files + 1))
	read -r rank name <<<"$(layer_of "$f")" || true
	if [ -z "${rank:-}" ]; then
		echo "$f: not in the layer table of $0"
		bad=$((bad + 1))
		continue
	fi
	# Quoted includes are the project's own: the including file's
	# directory first, then src/ and bench/core/ (the build's include
	# paths).
	# shellcheck disable=SC2013 # header names have no spaces
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		hp=$(dirname "$f")/$h
		[ -e "$hp" ] || hp=src/$h
		[ -e "$hp" ] || hp=bench/core/$h
		[ -e "$hp" ] || continue	# not ours (or generated)
		read -r hrank hname <<<"$(layer_of "$hp")" || true
		if [ -z "${hrank:-}" ]; then
			echo "$f: includes $h (not in the layer table)"
			bad=$((bad + 1))
		elif [ "$name" = benchcore ] && [[ $hp == src/* ]]; then
			echo "$f: includes $h (the bench core uses no library code)"
			bad=$((bad + 1))
		elif [ "$hrank" -gt "$rank" ]; then
			echo "$f: includes $h (layer $hname > layer $name)"
			bad=$((bad + 1))
		fi
		hrank=
	done
	rank=
done

if [ "$bad" -eq 0 ]; then
	echo "check-layers: $files files, no layer violations"
	exit 0
fi
echo "check-layers: $bad violations in $files files" >&2
[ "$report" = 1 ] && exit 0
exit 1
