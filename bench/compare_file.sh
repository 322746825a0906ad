#!/bin/bash
# zc_send_file (auto, bench_file push: ranges of 16 MiB, which auto sends
# by sendfile, and of 1 MiB, by pread + send) against socat and iperf3 -F moving
# the same file over loopback: wall time to the sender's exit and the
# sender's CPU (user + system, /usr/bin/time), ROUNDS interleaved rounds,
# medians.  zc_send_file and socat send to one socat sink (reads and
# discards); iperf3 -F sends to an iperf3 server (its own protocol).
# Needs socat and iperf3 (Debian packages; installed by hand for the
# benchmark, no test needs them).
# Usage: bench/compare_file.sh BUILD [ROUNDS (5)] [MiB (1024)]
set -euo pipefail
build=$1
rounds=${2:-5}
mib=${3:-1024}
tmp=$(mktemp -d /dev/shm/zc-compare.XXXXXX)
sink_port=5311
iperf_port=5312
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

file=$tmp/file
head -c "$((mib << 20))" /dev/urandom >"$file"
size=$((mib << 20))
iperf3 -s -p "$iperf_port" >/dev/null 2>&1 &
pids+=($!)

# A sink for one connection; its pid in spid.
sink() {
	socat -b 1048576 -u "TCP-LISTEN:$sink_port,bind=127.0.0.1,reuseaddr" \
		OPEN:/dev/null &
	spid=$!
	for _ in $(seq 50); do
		ss -ltn "sport = :$sink_port" | grep -q LISTEN && return
		sleep 0.05
	done
}

# one METHOD -> "MB/s cpu_s_per_GB"
one() {
	local t0 t1
	case $1 in
	zc_send_file*) sink ;;
	socat) sink ;;
	esac
	t0=$(date +%s%N)
	case $1 in
	zc_send_file) /usr/bin/time -f '%U %S' -o "$tmp/cpu" \
		"$build/bench/bench_file" push "$file" 127.0.0.1 "$sink_port" ;;
	zc_send_file-1M) /usr/bin/time -f '%U %S' -o "$tmp/cpu" \
		"$build/bench/bench_file" push "$file" 127.0.0.1 "$sink_port" \
		1048576 ;;
	socat) /usr/bin/time -f '%U %S' -o "$tmp/cpu" \
		socat -b 1048576 -u "OPEN:$file" "TCP:127.0.0.1:$sink_port" ;;
	iperf3-F) /usr/bin/time -f '%U %S' -o "$tmp/cpu" \
		iperf3 -c 127.0.0.1 -p "$iperf_port" -F "$file" -n "$size" \
		>/dev/null ;;
	esac
	t1=$(date +%s%N)
	[ -n "${spid:-}" ] && wait "$spid" 2>/dev/null || true
	spid=
	python3 -c 'import sys; b=int(sys.argv[1]); ns=int(sys.argv[2]); c=sum(map(float, open(sys.argv[3]).read().split()[-2:])); print("%.0f %.3f" % (b/(ns/1e9)/1e6, c/(b/1e9)))' \
		"$size" "$((t1 - t0))" "$tmp/cpu"
}

methods=(zc_send_file zc_send_file-1M socat iperf3-F)
declare -A tp=() cp=()
for ((r = 0; r < rounds; r++)); do
	for ((k = 0; k < ${#methods[@]}; k++)); do
		m=${methods[$(((r + k) % ${#methods[@]}))]}
		read -r t c <<<"$(one "$m")"
		tp[$m]="${tp[$m]:-} $t"
		cp[$m]="${cp[$m]:-} $c"
	done
done
echo "loopback, one $mib MiB file on tmpfs, page cache warm, $rounds interleaved rounds, medians"
printf '%-14s %10s %14s\n' sender "MB/s" "sender CPU s/GB"
for m in "${methods[@]}"; do
	printf '%-14s %10s %14s\n' "$m" \
		"$(python3 -c 'import sys,statistics; print("%.0f" % statistics.median(map(float, sys.argv[1:])))' ${tp[$m]})" \
		"$(python3 -c 'import sys,statistics; print("%.3f" % statistics.median(map(float, sys.argv[1:])))' ${cp[$m]})"
done
