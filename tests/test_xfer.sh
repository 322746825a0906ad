#!/bin/bash
# zcopy send / zcopy recv end to end, over loopback and across two network
# namespaces joined by veth: a tree with nested directories, empty files
# and odd names round-trips bit-exact by every mechanism; a flipped byte
# is caught and the file is not kept; wrong tokens, names that leave the
# directory, symbolic links on the way and existing files are refused with
# a clear message and exit status 1; --resume skips what is there; quiet
# peers time out.  Every step is bounded.
# Usage: test_xfer.sh ZCOPY XFER_PEER_PY
set -u
zcopy=$1
peer=$2
tmp=$(mktemp -d /tmp/zcopy-xfer.XXXXXX)
fail=0
pids=()
nss=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in "${nss[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fail=1
}

# A tree of the awkward kind.
make_tree() {
	local d=$1
	mkdir -p "$d/tree/a/b/c/d" "$d/tree/empty dir" "$d/tree/-dash"
	: >"$d/tree/empty"
	: >"$d/tree/a/b/c/d/empty too"
	printf 'x' >"$d/tree/one byte"
	printf 'new\nline' >"$d/tree/a/name with
newline"
	printf 'utf8' >"$d/tree/a/b/ünïcödé ✓"
	printf 'dots' >"$d/tree/-dash/...dots..."
	printf 'long' >"$d/tree/a/$(printf 'L%.0s' {1..200})"
	head -c 3000000 /dev/urandom >"$d/tree/a/b/random.bin"
	head -c 4095 /dev/urandom >"$d/tree/a/b/c/4095"
	chmod 0640 "$d/tree/one byte"
}

# start_recv LOG DIR [ARGS...]: zcopy recv -p 0 in the background; sets
# rpid and port (from its first line).
start_recv() {
	local log=$1
	shift
	# A log left by an earlier receiver would give its port.
	rm -f "$log" "$log.out"
	timeout 60 "${prefix[@]}" "$zcopy" recv -p 0 "$@" >"$log.out" 2>"$log" &
	rpid=$!
	pids+=("$rpid")
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/.*listening on .* port \([0-9]*\),.*/\1/p' "$log" 2>/dev/null)
		[ -n "$port" ] && return 0
		sleep 0.1
	done
	echo "recv did not start: $(cat "$log")"
	return 1
}

wait_recv() {
	wait "$rpid"
	rstatus=$?
}

# run_send WANT LOG ARGS...: zcopy send, its status checked.
run_send() {
	local want=$1 log=$2
	shift 2
	timeout 60 "${prefix[@]}" "$zcopy" send -q "$@" >"$log.out" 2>"$log"
	sstatus=$?
	[ "$sstatus" -eq "$want" ]
}

leftovers() { find "$1" -name '.zcopy-*.part' | grep -q .; }

prefix=()
make_tree "$tmp/src"

# ---- round trips, loopback, every mechanism ------------------------------
for mech in auto sendfile splice uring-splice copy msgzc; do
	dst=$tmp/dst-$mech
	mkdir "$dst"
	start_recv "$tmp/recv-$mech.log" -t "tok-$mech" -q "$dst" || {
		bad "recv $mech"
		continue
	}
	if run_send 0 "$tmp/send-$mech.log" -m "$mech" -t "tok-$mech" \
		"$tmp/src/tree" "127.0.0.1:$port"; then
		wait_recv
		if [ "$rstatus" -eq 0 ] && diff -r "$tmp/src/tree" "$dst/tree" &&
			! leftovers "$dst" &&
			[ "$(stat -c %a "$dst/tree/one byte")" = 640 ]; then
			ok "round trip by $mech: bit-exact, modes kept"
		else
			bad "round trip by $mech: recv $rstatus: $(cat "$tmp/recv-$mech.log")"
		fi
	else
		bad "send by $mech: $sstatus: $(cat "$tmp/send-$mech.log")"
		wait_recv
	fi
done

# ---- --json, token from the environment ----------------------------------
dst=$tmp/dst-json
mkdir "$dst"
ZCOPY_TOKEN=envtok start_recv "$tmp/recv-json.log" -q "$dst"
# A host name where there is one (a bare chroot may have no /etc/hosts).
host=localhost
if ! getent hosts localhost >/dev/null; then
	echo "skip host name: localhost does not resolve here; 127.0.0.1"
	host=127.0.0.1
fi
if ZCOPY_TOKEN=envtok run_send 0 "$tmp/send-json.log" --json \
	"$tmp/src/tree/a/b/random.bin" "$host:$port" &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["files"]==1 and d["failed"]==0 and d["bytes"]==3000000' \
		"$tmp/send-json.log.out"; then
	ok "--json summary, token from ZCOPY_TOKEN, host name"
else
	bad "--json: $(cat "$tmp/send-json.log" "$tmp/send-json.log.out")"
fi
wait_recv

# ---- a generated token is printed ------------------------------------------
dst=$tmp/dst-gen
mkdir "$dst"
start_recv "$tmp/recv-gen.log" -q "$dst"
# The token line follows the "listening" line start_recv waited for.
tok=
for _ in $(seq 100); do
	tok=$(sed -n 's/.*token: \([0-9a-f]*\) .*/\1/p' "$tmp/recv-gen.log")
	[ -n "$tok" ] && break
	sleep 0.1
done
if [ -n "$tok" ] && run_send 0 "$tmp/send-gen.log" -t "$tok" \
	"$tmp/src/tree/one byte" "127.0.0.1:$port"; then
	ok "recv without a token makes one and prints it"
else
	bad "generated token: $(cat "$tmp/recv-gen.log" "$tmp/send-gen.log")"
fi
wait_recv

# ---- wrong token: nothing written ----------------------------------------
dst=$tmp/dst-token
mkdir "$dst"
start_recv "$tmp/recv-token.log" -t right -q "$dst"
run_send 1 "$tmp/send-token.log" -t wrong "$tmp/src/tree" "127.0.0.1:$port"
wait_recv
if [ "$sstatus" -eq 1 ] && [ "$rstatus" -eq 1 ] &&
	grep -q "wrong token" "$tmp/send-token.log" &&
	grep -q "wrong token" "$tmp/recv-token.log" &&
	[ -z "$(ls -A "$dst")" ]; then
	ok "wrong token: refused on both sides (status 1), nothing written"
else
	bad "wrong token: send $sstatus recv $rstatus: $(cat "$tmp/send-token.log" "$tmp/recv-token.log")"
fi

# ---- existing files: refused without --force, kept as they were -----------
dst=$tmp/dst-auto
echo "mine" >"$dst/tree/one byte"
start_recv "$tmp/recv-exist.log" -t t -q "$dst"
run_send 1 "$tmp/send-exist.log" -t t "$tmp/src/tree" "127.0.0.1:$port"
wait_recv
if [ "$sstatus" -eq 1 ] && [ "$rstatus" -eq 1 ] &&
	grep -q "exists (use --force" "$tmp/send-exist.log" &&
	grep -q "exists" "$tmp/recv-exist.log" &&
	[ "$(cat "$dst/tree/one byte")" = mine ] && ! leftovers "$dst"; then
	ok "existing files: refused (status 1), left as they were"
else
	bad "existing files: send $sstatus recv $rstatus: $(cat "$tmp/send-exist.log")"
fi

# ---- --resume: skips what is there and verified, refuses what differs -----
start_recv "$tmp/recv-resume.log" -t t -j "$dst"
run_send 1 "$tmp/send-resume.log" -t t --resume "$tmp/src/tree" \
	"127.0.0.1:$port"
wait_recv
nfiles=$(find "$tmp/src/tree" -type f -printf x | wc -c)
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["skipped"]==int(sys.argv[2])-1 and d["failed"]==1, d' \
	"$tmp/recv-resume.log.out" "$nfiles"; then
	ok "--resume: $((nfiles - 1)) verified files skipped, the changed one refused"
else
	bad "--resume: $(cat "$tmp/recv-resume.log"* "$tmp/send-resume.log")"
fi

# ---- --force overwrites -----------------------------------------------------
start_recv "$tmp/recv-force.log" -t t -q --force "$dst"
if run_send 0 "$tmp/send-force.log" -t t "$tmp/src/tree" "127.0.0.1:$port" &&
	wait_recv && diff -r "$tmp/src/tree" "$dst/tree"; then
	ok "--force: overwritten, bit-exact"
else
	bad "--force: $(cat "$tmp/send-force.log" "$tmp/recv-force.log")"
fi

# ---- names that leave the directory ------------------------------------------
for name in "../evil" "/tmp/evil" "a/../../evil" "a//b" "."; do
	dst=$tmp/dst-name
	rm -rf "$dst"
	mkdir "$dst"
	start_recv "$tmp/recv-name.log" -t t -q "$dst"
	timeout 30 python3 "$peer" evil "$port" t file "$name" >"$tmp/peer.out" 2>&1
	wait_recv
	if [ "$rstatus" -eq 1 ] && grep -q "leaves the target directory" \
		"$tmp/recv-name.log" && grep -q "code 4" "$tmp/peer.out" &&
		[ -z "$(ls -A "$dst")" ] && [ ! -e /tmp/evil ]; then
		ok "name '$name' refused (status 1), nothing written"
	else
		bad "name '$name': recv $rstatus: $(cat "$tmp/recv-name.log" "$tmp/peer.out")"
	fi
done

# A symbolic link inside the target directory pointing out of it.
dst=$tmp/dst-link
mkdir -p "$dst" "$tmp/outside"
ln -s "$tmp/outside" "$dst/link"
start_recv "$tmp/recv-link.log" -t t -q "$dst"
timeout 30 python3 "$peer" evil "$port" t file "link/pwned" >"$tmp/peer.out" 2>&1
wait_recv
if grep -q "code 4" "$tmp/peer.out" && [ ! -e "$tmp/outside/pwned" ] &&
	grep -q "link/pwned: name refused" "$tmp/recv-link.log"; then
	ok "a symbolic link on the way is not followed"
else
	bad "symlink: $(cat "$tmp/recv-link.log" "$tmp/peer.out")"
fi

# ---- a flipped byte: caught, the file not kept ------------------------------
dst=$tmp/dst-flip
mkdir "$dst"
start_recv "$tmp/recv-flip.log" -t t -q "$dst"
coproc FLIP { timeout 60 python3 "$peer" flip "$port" 200000; }
pids+=("$FLIP_PID")
read -r fport <&"${FLIP[0]}"
run_send 1 "$tmp/send-flip.log" -t t "$tmp/src/tree/a/b/random.bin" \
	"$tmp/src/tree/one byte" "127.0.0.1:$fport"
wait_recv
if [ "$sstatus" -eq 1 ] && [ "$rstatus" -eq 1 ] &&
	grep -q "random.bin.*corrupted in transit" "$tmp/send-flip.log" &&
	grep -q "random.bin.*corrupted in transit" "$tmp/recv-flip.log" &&
	[ ! -e "$dst/random.bin" ] && [ -e "$dst/one byte" ] &&
	! leftovers "$dst"; then
	ok "a flipped byte: caught on both sides, the file not kept, the rest kept"
else
	bad "flipped byte: send $sstatus recv $rstatus: $(cat "$tmp/send-flip.log" "$tmp/recv-flip.log")"
fi

# ---- quiet peers time out ---------------------------------------------------
dst=$tmp/dst-quiet
mkdir "$dst"
start_recv "$tmp/recv-quiet.log" -t t -q -T 2 "$dst"
t0=$SECONDS
timeout 30 python3 "$peer" quiet "$port" >/dev/null 2>&1 &
wait_recv
if [ "$rstatus" -eq 1 ] && ((SECONDS - t0 < 15)) &&
	grep -q "timed out" "$tmp/recv-quiet.log"; then
	ok "recv gives up on a quiet sender (--timeout 2)"
else
	bad "quiet sender: recv $rstatus after $((SECONDS - t0)) s: $(cat "$tmp/recv-quiet.log")"
fi
coproc MUTE { timeout 60 python3 "$peer" mute; }
pids+=("$MUTE_PID")
read -r mport <&"${MUTE[0]}"
t0=$SECONDS
run_send 1 "$tmp/send-mute.log" -t t -T 2 "$tmp/src/tree/empty" \
	"127.0.0.1:$mport"
if ((SECONDS - t0 < 15)) && grep -q "timed out" "$tmp/send-mute.log"; then
	ok "send gives up on a mute receiver (--timeout 2)"
else
	bad "mute receiver: send $sstatus: $(cat "$tmp/send-mute.log")"
fi

# ---- usage errors -----------------------------------------------------------
"$zcopy" send x 2>/dev/null
s1=$?
"$zcopy" recv --port x 2>/dev/null
s2=$?
if [ "$s1" -eq 2 ] && [ "$s2" -eq 2 ] &&
	env -u ZCOPY_TOKEN "$zcopy" send "$tmp/src" h 2>&1 | grep -q "no token"; then
	ok "usage errors: status 2, missing token named"
else
	bad "usage errors"
fi

# ---- across namespaces joined by veth ---------------------------------------
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null &&
	ip netns add "zxa$$" 2>/dev/null; then
	nss+=("zxa$$")
	ip netns add "zxb$$" && nss+=("zxb$$")
	# nsenter, not ip -n: that needs / to be a mount point (chroots).
	ina=(nsenter "--net=/run/netns/zxa$$")
	inb=(nsenter "--net=/run/netns/zxb$$")
	ip link add "zxva$$" netns "zxa$$" type veth peer name "zxvb$$" \
		netns "zxb$$" &&
		"${ina[@]}" ip addr add 10.233.7.1/24 dev "zxva$$" &&
		"${inb[@]}" ip addr add 10.233.7.2/24 dev "zxvb$$" &&
		"${ina[@]}" ip link set "zxva$$" up &&
		"${inb[@]}" ip link set "zxvb$$" up
	dst=$tmp/dst-veth
	mkdir "$dst"
	prefix=(nsenter "--net=/run/netns/zxa$$")
	start_recv "$tmp/recv-veth.log" -t v -q -l 10.233.7.1 "$dst"
	prefix=(nsenter "--net=/run/netns/zxb$$")
	if run_send 0 "$tmp/send-veth.log" -t v "$tmp/src/tree" "10.233.7.1:$port" &&
		wait_recv && [ "$rstatus" -eq 0 ] &&
		diff -r "$tmp/src/tree" "$dst/tree"; then
		ok "round trip across veth: bit-exact"
	else
		bad "veth: $(cat "$tmp/send-veth.log" "$tmp/recv-veth.log")"
	fi
	prefix=()
else
	echo "skip veth: needs root and ip netns"
fi

exit $fail
