#!/bin/bash
# Command-line conventions: --help and --version succeed; bad input gives
# a clear message on stderr and exit status 2 (usage) or 1 (runtime).
zcopy=$1
fail=0
prefix=() # a command to run zcopy under (env, setpriv, unshare)

# expect STATUS STDERR-PATTERN ARGS...
expect() {
	local want=$1 pattern=$2 err status
	shift 2
	err=$("${prefix[@]}" "$zcopy" "$@" 2>&1 >/dev/null)
	status=$?
	if [ "$status" -ne "$want" ] || ! grep -qi -- "$pattern" <<<"$err"; then
		echo "FAIL ${prefix[*]} zcopy $*: status $status (want $want), stderr: $err"
		fail=1
	else
		echo "ok   ${prefix[*]} zcopy $*: $status, '$pattern'"
	fi
}

expect 0 '' --help
expect 0 '' --version
expect 0 '' probe --help
expect 0 '' send --help
expect 0 '' recv --help
expect 2 'needs FILE' send onlyone
expect 2 'not a port' recv --port 70000
"$zcopy" --help | grep -q '^Usage: zcopy' || { echo "FAIL --help text"; fail=1; }
"$zcopy" probe --help | grep -q -- '--json' || { echo "FAIL probe --help text"; fail=1; }
"$zcopy" --version | grep -q '^zcopy [0-9]' || { echo "FAIL --version"; fail=1; }
expect 2 'usage' 
expect 2 'unrecognized option' --bogus
expect 2 'unknown command' frobnicate
expect 2 'unrecognized option' probe --bogus
expect 2 'requires an argument' probe --ifname
expect 2 'no such interface' probe --ifname nosuchif0
expect 2 'unexpected argument' probe extra
expect 2 'requires an argument' probe --to
expect 2 "--to: bad port (1 to 65535): 'localhost:0'" probe --to localhost:0
expect 2 "--to: bad port.*: 'localhost:x'" probe --to localhost:x
expect 2 "--to: bad port.*: '\[::1\]:70000'" probe --to '[::1]:70000'
expect 2 "--to: bad host: ':5301'" probe --to :5301
expect 2 "--to: bad host: '\[::1'" probe --to '[::1'
expect 2 "--udp-sink goes with --to: '--udp-sink'" probe --udp-sink
expect 2 "--to probes one route, not with --netns or --ifname: '--netns'" \
	probe --to 127.0.0.1 --netns
"$zcopy" probe --help | grep -q -- '--to HOST\[:PORT\]' ||
	{ echo "FAIL probe --help: --to"; fail=1; }

# zcopy bench refuses bad input at once, before any run, naming the word.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ncpu=$(getconf _NPROCESSORS_CONF)
expect 2 "unknown receive mode.*: 'foo'" bench -m msgzc:foo
expect 2 "unknown send mode.*: 'bar'" bench -m copy,bar:copy
expect 2 "unknown mode.*: 'nope'" bench -m nope
expect 2 "--cpu: no such CPU.*: '$ncpu'" bench --cpu "0,$ncpu"
expect 2 "--cpu: no such CPU.*: '$ncpu'" bench -A "0-$ncpu"
expect 2 "--cpu: no such CPU.*: '$ncpu'" bench server -A "$ncpu"
expect 2 "--server-cpu: no such CPU.*: '$ncpu'" bench --server-cpu "$ncpu"
expect 2 "too large for UDP.*: '64K'" bench -u -s 4K,64K
expect 2 "too large for UDP.*: '64K'" bench -u --length 4K,64K
# The options iperf3 also has, under its names, refused the same way.
expect 2 "bad bitrate (bits per second, e.g. 100M or 1G): 'fast'" bench -b fast
expect 2 "bad bitrate.*: '1X'" bench --bitrate 1X
expect 2 "bad bitrate.*: '-5M'" bench --bitrate -5M
expect 2 "bad bitrate.*: '2P'" bench -b 2P
expect 2 "bad interval (0, or 0.1 to 3600 seconds): '0.01'" bench -i 0.01
expect 2 "bad interval.*: 'x'" bench --interval x
expect 2 "bad interval.*: '-1'" bench -i -1
expect 2 "bad message size: '0'" bench -l 0
expect 2 "bad MSS: '10'" bench -M 10
expect 2 "bad MSS: '70000'" bench --set-mss 70000
expect 2 "bad stream count: '65'" bench -P 65
expect 2 "bad duration: '0'" bench -t 0
expect 2 "choose one of: '--time --budget'" bench -t 1 --budget 10
expect 2 "bad CPU list: 'x'" bench --affinity x
expect 2 "choose one of: '--json --csv'" bench -J --csv
expect 2 "option '--reverse' doesn't allow an argument" bench --reverse=yes
help=$("$zcopy" bench --help)
for opt in --reverse --bitrate --interval --length --affinity --set-mss \
	--one-off -J; do
	grep -q -- "$opt" <<<"$help" || { echo "FAIL bench --help: $opt"; fail=1; }
done
expect 2 "too large for UDP.*: '65508'" bench -s 65508 -u
expect 2 "--plot: no such directory: '/nonexistent/dir'" \
	bench --plot /nonexistent/dir/zcopy.png
touch "$tmp/file"
expect 2 "--plot: not a directory: '$tmp/file'" bench --plot "$tmp/file/x.png"
expect 2 "--plot: is a directory" bench --plot "$tmp"
expect 2 "--plot: the file name must not contain a quote" \
	bench --plot "$tmp/it's.png"
prefix=(env PATH=/nonexistent)
expect 2 "--plot: not found on PATH.*: 'gnuplot'" bench --plot "$tmp/x.png"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	chmod 0755 "$tmp"
	mkdir -m 0700 "$tmp/private"
	prefix=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	expect 2 "--plot: cannot write in directory: '$tmp/private'" \
		bench --plot "$tmp/private/x.png"
	expect 2 "--plot: cannot reach directory: '$tmp/private/sub'" \
		bench --plot "$tmp/private/sub/x.png"
else
	echo "skip --plot in a directory this user cannot write (needs root)"
fi
# A host name the resolver cannot resolve: its words, not "No route to
# host".  In a network namespace of its own, no query leaves the machine.
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	prefix=(unshare -n)
	expect 1 "cannot connect to nosuch.invalid port .*: \(Name or service not known\|Temporary failure in name resolution\|No address associated with hostname\)" \
		bench client nosuch.invalid -s 4K -m copy -q --timeout 2
else
	echo "skip the unresolvable host name (needs root for a namespace)"
fi
prefix=()
# Nobody at the port (a free port of loopback's): the connection's error,
# status 1 (runtime).
closed=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect 1 "cannot connect to 127.0.0.1 port $closed: connection refused" \
	probe --to "127.0.0.1:$closed"
[ -e "$tmp/x.png" ] && { echo "FAIL a refused command wrote its plot"; fail=1; }
# A tiny sweep draws its plot: a PNG (its signature), more than an empty
# set of axes (three panels of points are tens of KB; empty ones ~6 KB).
if command -v gnuplot >/dev/null; then
	if "$zcopy" bench -m copy:copy,msgzc:copy -s 4K,64K -t 0.1 -r 2 -q \
		--plot "$tmp/sweep.png" >/dev/null 2>"$tmp/plot.err"; then
		magic=$(head -c 8 "$tmp/sweep.png" | od -An -tx1 | tr -d ' \n')
		size=$(stat -c %s "$tmp/sweep.png")
		if [ "$magic" = 89504e470d0a1a0a ] && [ "$size" -gt 20000 ]; then
			echo "ok   zcopy bench --plot: a PNG of $size bytes"
		else
			echo "FAIL zcopy bench --plot: signature $magic, $size bytes"
			fail=1
		fi
	else
		echo "FAIL zcopy bench --plot: $(cat "$tmp/plot.err")"
		fail=1
	fi
else
	echo "skip zcopy bench --plot drawing: no gnuplot on PATH"
fi
exit $fail
