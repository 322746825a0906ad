#!/bin/bash
# zc_send_file (bench_file push, ranges of 16 MiB: auto, which sends by
# pread + send on loopback, and sendfile forced, what auto picks for a peer
# elsewhere; auto with ranges of 1 MiB) against socat and iperf3 -F moving
# the same file over loopback: wall time to the sender's exit and the
# sender's CPU (user + system, wait4), ROUNDS interleaved rounds,
# medians, and each sender's rate over socat's.  zc_send_file and socat
# send to one socat sink (reads and discards); iperf3 -F sends to an
# iperf3 server (its own protocol).  Needs socat and iperf3 (Debian
# packages, bench only: apt-get install socat iperf3; no test needs them).
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

# Run a command: its wall time and CPU (user + system, from wait4's
# rusage in microseconds; /usr/bin/time prints hundredths of a second,
# 0.01 s/GB at 1 GiB), its output dropped -> "MB/s cpu_s_per_GB" for size
# bytes.
timed() {
	python3 -c 'import os, subprocess, sys, time
b = int(sys.argv[1])
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, st, ru = os.wait4(p.pid, 0)
t = time.monotonic() - t0
if st:
    sys.exit("compare_file: %s failed" % sys.argv[2])
print("%.0f %.4f" % (b / t / 1e6, (ru.ru_utime + ru.ru_stime) / (b / 1e9)))' \
		"$size" "$@"
}

# one METHOD -> "MB/s cpu_s_per_GB"
one() {
	case $1 in
	zc_send_file*) sink ;;
	socat) sink ;;
	esac
	case $1 in
	zc_send_file) timed "$build/bench/bench_file" push "$file" 127.0.0.1 \
		"$sink_port" ;;
	zc_send_file-sf) timed "$build/bench/bench_file" push "$file" \
		127.0.0.1 "$sink_port" 16777216 sendfile ;;
	zc_send_file-1M) timed "$build/bench/bench_file" push "$file" \
		127.0.0.1 "$sink_port" 1048576 ;;
	socat) timed socat -b 1048576 -u "OPEN:$file" \
		"TCP:127.0.0.1:$sink_port" ;;
	iperf3-F) timed iperf3 -c 127.0.0.1 -p "$iperf_port" -F "$file" \
		-n "$size" ;;
	esac
	[ -n "${spid:-}" ] && wait "$spid" 2>/dev/null || true
	spid=
}

methods=(zc_send_file zc_send_file-sf zc_send_file-1M socat iperf3-F)
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
printf '%-16s %10s %14s %9s\n' sender "MB/s" "sender CPU s/GB" "/socat"
med() { python3 -c 'import sys,statistics; print(statistics.median(map(float, sys.argv[1:])))' "$@"; }
socat_tp=$(med ${tp[socat]})
for m in "${methods[@]}"; do
	t=$(med ${tp[$m]})
	printf '%-16s %10.0f %14.4f %9.2f\n' "$m" "$t" "$(med ${cp[$m]})" \
		"$(python3 -c "print($t / $socat_tp)")"
done
