#!/bin/sh
# Usage: check-man-fields.sh HEADER MAN3_DIR
# Every field of every struct defined in HEADER (the public API) must be
# named in a man3 page that names the struct.  The structs and fields are
# read from the header, so new ones are checked as they appear.
set -eu
header=$1
mandir=$2

# "struct field" per line: comments dropped, declarations split at ';',
# the name taken from "(*name)(...)" (function pointers) or as the last
# word before an optional [size].
fields=$(awk '
function strip(s) {
	for (;;) {
		if (incomment) {
			e = index(s, "*/")
			if (!e)
				return ""
			s = substr(s, e + 2)
			incomment = 0
		}
		b = index(s, "/*")
		if (!b)
			return s
		rest = substr(s, b + 2)
		e = index(rest, "*/")
		if (e) {
			s = substr(s, 1, b - 1) " " substr(rest, e + 2)
		} else {
			incomment = 1
			return substr(s, 1, b - 1)
		}
	}
}
{
	line = strip($0)
	if (!name) {
		if (match(line, /^[ \t]*struct[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\{/)) {
			name = line
			sub(/^[ \t]*struct[ \t]+/, "", name)
			sub(/[ \t]*\{.*/, "", name)
			body = ""
			n = 0
		}
		next
	}
	if (line ~ /^[ \t]*\}[ \t]*;/) {
		if (!n)
			print name " -"
		name = ""
		next
	}
	body = body " " line
	while ((i = index(body, ";"))) {
		decl = substr(body, 1, i - 1)
		body = substr(body, i + 1)
		if (match(decl, /\([ \t]*\*[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*\)/)) {
			f = substr(decl, RSTART, RLENGTH)
			gsub(/[ \t()*]/, "", f)
		} else {
			sub(/[ \t]*(\[[^]]*\][ \t]*)*$/, "", decl)
			if (!match(decl, /[A-Za-z_][A-Za-z0-9_]*$/))
				continue
			f = substr(decl, RSTART, RLENGTH)
		}
		print name " " f
		n++
	}
}' "$header")

if [ -z "$fields" ]; then
	echo "no structs found in $header" >&2
	exit 1
fi

# The pages as text: font escapes (\fB...\fR) and \- removed, so fields
# and struct names stand as words; .so aliases are left out.
text=$(mktemp)
trap 'rm -f "$text"' EXIT
bad=0
nstructs=0
nfields=0
for s in $(echo "$fields" | cut -d' ' -f1 | uniq); do
	nstructs=$((nstructs + 1))
	pages=
	for p in "$mandir"/*.3; do
		grep -q '^\.so ' "$p" && continue
		sed 's/\\f[BIRP]//g; s/\\f(..//g; s/\\-/-/g' "$p" |
			grep -qw "$s" && pages="$pages $p"
	done
	if [ -z "$pages" ]; then
		echo "struct $s: no man3 page names it" >&2
		bad=1
		continue
	fi
	# shellcheck disable=SC2086 # one argument per page
	sed 's/\\f[BIRP]//g; s/\\f(..//g; s/\\-/-/g' $pages >"$text"
	for f in $(echo "$fields" | awk -v s="$s" '$1 == s { print $2 }'); do
		if [ "$f" = - ]; then
			echo "struct $s: no fields read from $header" >&2
			bad=1
			continue
		fi
		nfields=$((nfields + 1))
		if ! grep -qw -- "$f" "$text"; then
			echo "struct $s: field $f is in none of its pages:" \
				"$(for p in $pages; do basename "$p"; done |
					tr '\n' ' ')" >&2
			bad=1
		fi
	done
done
[ "$bad" -eq 0 ] &&
	echo "$nstructs public structs, $nfields fields, each in a man page"
exit "$bad"
