#!/bin/bash
# Peer comparison on loopback, in one interleaved run: iperf3 (plain and
# -Z, sendfile), the plain blocking send()/recv() pair (bench/raw_send.c,
# receiver's throughput) and zcopy bench's modes, at the same message
# sizes (see bench/vs_plain.sh for the pinned comparison, TCP and UDP).  Every round runs every tool once per
# size in a rotating order, so the machine's noise hits all of them alike;
# the table gives medians over the rounds and ratios to the send() loop.
#
# usage: bench/compare.sh [BUILD_DIR]
#   SIZES="4K 64K 1M" ROUNDS=5 SECS=1 MODES="copy msgzc auto"
set -euo pipefail
build=${1:-build}
sizes=${SIZES:-4K 64K 1M}
rounds=${ROUNDS:-5}
secs=${SECS:-1}
modes=${MODES:-copy msgzc auto}
zcopy=$build/tools/zcopy
raw=$build/bench/raw_send
host=127.0.0.1

# iperf3 reads -t as whole seconds ("0.5" would be 0: run forever).
[[ $secs =~ ^[1-9][0-9]*$ ]] ||
	{ echo "compare: SECS must be whole seconds (iperf3 -t): $secs" >&2; exit 2; }
for p in "$zcopy" "$raw"; do
	[ -x "$p" ] || { echo "compare: $p missing: build first" >&2; exit 1; }
done
command -v iperf3 >/dev/null ||
	{ echo "compare: iperf3 missing (apt-get install iperf3)" >&2; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pids=()
tmp=$(mktemp -d)
results=$tmp/results
srv_pid=
cleanup() {
	for p in "${pids[@]}" $srv_pid; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=bench/pair.sh
. "$(dirname "$0")/pair.sh"

p_iperf=$(free_port)
iperf3 -s -B $host -p "$p_iperf" >/dev/null 2>&1 &
pids+=($!)
zcopy_server_start --timeout 5 || exit 1
sleep 0.5

bytes() {
	python3 -c "import sys; s=sys.argv[1].upper(); m={'K':1<<10,'M':1<<20}
print(int(s[:-1])*m[s[-1]] if s[-1] in m else int(s))" "$1"
}

# Each prints Gbit/s for one run of SECS seconds with messages of $1 bytes.
run_iperf() {
	iperf3 -c $host -p "$p_iperf" -t "$secs" -l "$1" -J ${2:+"$2"} |
		python3 -c 'import json,sys
print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)'
}

tools=("send()" "iperf3" "iperf3 -Z")
for m in $modes; do tools+=("zcopy $m"); done

run_tool() { # tool size
	case $1 in
	"send()") pair_run tcp "$2" "$secs" ;;
	"iperf3") run_iperf "$2" "" ;;
	"iperf3 -Z") run_iperf "$2" -Z ;;
	zcopy*) zcopy_run tcp "$2" "$secs" "${1#zcopy }" ;;
	esac
}

n=${#tools[@]}
total=$((rounds * n * $(wc -w <<<"$sizes")))
done_runs=0
for size in $sizes; do
	b=$(bytes "$size")
	for ((r = 0; r < rounds; r++)); do
		for ((k = 0; k < n; k++)); do
			t=${tools[$(((k + r) % n))]}
			done_runs=$((done_runs + 1))
			[ -t 2 ] && printf '\r\033[K[%d/%d] %s %s' \
				"$done_runs" "$total" "$size" "$t" >&2
			g=$(run_tool "$t" "$b" | cut -d' ' -f1) || g=nan
			printf '%s\t%s\t%s\n' "$size" "$t" "$g" >>"$results"
		done
	done
done
[ -t 2 ] && printf '\r\033[K' >&2

echo "Loopback TCP, $(uname -r), $(nproc) CPUs; $rounds interleaved rounds" \
	"of ${secs}s per tool and size; medians in Gbit/s, ratio to send()"
python3 - "$results" "$sizes" "${tools[@]}" <<'EOF'
import statistics, sys
path, sizes, tools = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
runs = {}
for line in open(path):
    size, tool, g = line.rstrip("\n").split("\t")
    if g != "nan":
        runs.setdefault((size, tool), []).append(float(g))
print(f"{'tool':<14}" + "".join(f"{s:>18}" for s in sizes))
for t in tools:
    row = f"{t:<14}"
    for s in sizes:
        v = runs.get((s, t))
        base = runs.get((s, "send()"))
        if not v:
            row += f"{'failed':>18}"
            continue
        med = statistics.median(v)
        r = med / statistics.median(base) if base else float("nan")
        row += f"{med:>10.2f} ({r:4.2f}x)"
    print(row)
EOF
