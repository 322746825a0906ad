#!/bin/bash
# zcopy bench against a plain blocking send()/recv() pair, in one
# interleaved run on loopback: is the tool's figure the network's, or its
# own overhead?  The pair is bench/raw_send (two processes: a blocking
# send() loop pinned to TX_CPU, a blocking recv() loop pinned to RX_CPU,
# throughput measured by the receiver from its first to its last byte).
# zcopy bench runs as a client pinned to TX_CPU against a `zcopy bench
# server` pinned to RX_CPU, and its own figure is taken as it reports it
# (--json, gbps).  Every round runs the pair and each mode once per size,
# in a rotating order, so the machine's noise hits all alike; the table
# gives medians over the rounds and the median of the per-round ratios
# (zcopy / pair of the same round), with their range.  A second pair run
# per round (pair2, NOISE=1) is the noise floor: pair2/pair is what the
# machine's noise alone makes of two identical runs, so a zcopy ratio
# within its range is no difference at all.
#
# usage: bench/vs_plain.sh [BUILD_DIR]
#   PROTOS="tcp udp" ROUNDS=4 SECS=3 MODES="auto copy" NOISE=1 TX_CPU=0 RX_CPU=1
#   TCP_SIZES="4K 16K 64K 128K 256K 1M" UDP_SIZES="4K 16K 32K 63K"
set -euo pipefail
build=${1:-build}
protos=${PROTOS:-tcp udp}
rounds=${ROUNDS:-4}
secs=${SECS:-3}
modes=${MODES:-auto copy}
noise=${NOISE:-1}
tx_cpu=${TX_CPU:-0}
rx_cpu=${RX_CPU:-1}
# shellcheck disable=SC2034 # read as ${!s} below
tcp_sizes=${TCP_SIZES:-4K 16K 64K 128K 256K 1M}
# shellcheck disable=SC2034
udp_sizes=${UDP_SIZES:-4K 16K 32K 63K}
zcopy=$build/tools/zcopy
raw=$build/bench/raw_send
host=127.0.0.1

for p in "$zcopy" "$raw"; do
	[ -x "$p" ] || { echo "vs_plain: $p missing: build first" >&2; exit 1; }
done

tmp=$(mktemp -d)
srv_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=bench/pair.sh
. "$(dirname "$0")/pair.sh"
export TX_CPU=$tx_cpu RX_CPU=$rx_cpu
zcopy_server_start -A "$rx_cpu" || exit 1

methods=(pair)
[ "$noise" = 1 ] && methods+=(pair2)
for m in $modes; do methods+=("$m"); done
n=${#methods[@]}
total=0
for proto in $protos; do
	s=${proto}_sizes
	total=$((total + rounds * n * $(wc -w <<<"${!s}")))
done
done_runs=0
start=$(date +%s)
for ((r = 0; r < rounds; r++)); do
	for proto in $protos; do
		s=${proto}_sizes
		for size in ${!s}; do
			for ((k = 0; k < n; k++)); do
				m=${methods[$(((k + r) % n))]}
				done_runs=$((done_runs + 1))
				[ -t 2 ] && printf '\r\033[K[%d/%d] %s %s %s' \
					"$done_runs" "$total" "$proto" "$size" "$m" >&2
				if [ "$m" = pair ] || [ "$m" = pair2 ]; then
					g=$(pair_run "$proto" "$size" "$secs")
				else
					g=$(zcopy_run "$proto" "$size" "$secs" \
						"$m" -A "$tx_cpu")
				fi
				read -r g tx rx <<<"${g:-nan nan nan}"
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$proto" \
					"$size" "$m" "$g" "${tx:-nan}" "${rx:-nan}" \
					>>"$tmp/results"
			done
		done
	done
done
[ -t 2 ] && printf '\r\033[K' >&2

echo "zcopy bench vs a plain blocking send()/recv() pair: loopback, $(uname -r)," \
	"$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg);"
echo "sender on CPU $tx_cpu, receiver on CPU $rx_cpu; $rounds interleaved" \
	"rounds of ${secs}s per method and size ($(($(date +%s) - start)) s in all)."
echo "Gbit/s: medians over the rounds; ratio: median of the per-round" \
	"ratios zcopy/pair [their range]."
python3 - "$tmp/results" "$protos" "${methods[@]}" <<'EOF_PY'
import statistics, sys
path, protos, methods = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
runs = {}
order = []
cpu = {}
for line in open(path):
    r, proto, size, m, g, tx, rx = line.rstrip("\n").split("\t")
    if (proto, size) not in order:
        order.append((proto, size))
    runs.setdefault((proto, size, m), {})[int(r)] = float(g)
    cpu.setdefault((proto, size, m), {})[int(r)] = (float(tx), float(rx))
zmodes = [m for m in methods if m != "pair"]
head = f"{'proto':<6}{'size':>6}{'pair':>9}"
for m in zmodes:
    head += f"{m:>10}{m + '/pair':>24}"
print(head)
worst, meets = {}, {}
for proto, size in order:
    pair = runs.get((proto, size, "pair"), {})
    ok = {r: g for r, g in pair.items() if g == g and g > 0}
    row = f"{proto:<6}{size:>6}"
    row += f"{statistics.median(ok.values()):>9.2f}" if ok else f"{'failed':>9}"
    for m in zmodes:
        z = {r: g for r, g in runs.get((proto, size, m), {}).items()
             if g == g and g > 0}
        ratios = sorted(z[r] / ok[r] for r in z if r in ok)
        row += f"{statistics.median(z.values()):>10.2f}" if z else f"{'failed':>10}"
        if ratios:
            med = statistics.median(ratios)
            worst[m] = min(worst.get(m, med), med)
            meets.setdefault(m, []).append(med >= 0.95)
            row += f"{med:>11.2f}x [{ratios[0]:.2f}-{ratios[-1]:.2f}]"
        else:
            row += f"{'-':>24}"
    print(row)
for m in zmodes:
    if m in worst:
        note = " (noise floor: the pair against itself)" if m == "pair2" else ""
        print(f"lowest median ratio of {m}: {worst[m]:.2f}x; at least 0.95x "
              f"at {sum(meets[m])} of {len(meets[m])} sizes{note}")
print()
print("CPU seconds per GB, medians over the rounds: sender / receiver")
head = f"{'proto':<6}{'size':>6}"
for m in methods:
    head += f"{m:>18}"
print(head)
for proto, size in order:
    row = f"{proto:<6}{size:>6}"
    for m in methods:
        v = [c for c in cpu.get((proto, size, m), {}).values()
             if c[0] == c[0]]
        if v:
            tx = statistics.median(c[0] for c in v)
            rx = statistics.median(c[1] for c in v)
            row += f"{tx:>10.3f} /{rx:>6.3f}"
        else:
            row += f"{'-':>18}"
    print(row)
print()
# Less noisy than throughput: CPU time per byte hardly depends on what
# else the machine runs.
print("CPU per GB against the pair: median of the per-round ratios, "
      "sender / receiver")
head = f"{'proto':<6}{'size':>6}"
for m in zmodes:
    head += f"{m + '/pair':>18}"
print(head)
for proto, size in order:
    pair = cpu.get((proto, size, "pair"), {})
    row = f"{proto:<6}{size:>6}"
    for m in zmodes:
        z = cpu.get((proto, size, m), {})
        both = [r for r in z if r in pair and min(z[r] + pair[r]) > 0]
        if both:
            tx = statistics.median(z[r][0] / pair[r][0] for r in both)
            rx = statistics.median(z[r][1] / pair[r][1] for r in both)
            row += f"{tx:>10.2f}x/{rx:>5.2f}x"
        else:
            row += f"{'-':>18}"
    print(row)
EOF_PY
