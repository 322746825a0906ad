#!/bin/bash
# zcopy relay against socat and HAProxy (mode tcp, splice) on loopback:
# iperf3 -c through each proxy to an iperf3 server, 1 and 100 parallel
# connections, ROUNDS interleaved rounds (rotating order), medians of the
# throughput and of the proxy's CPU (user + system, its threads and
# children, from /usr/bin/time) per GB moved.
# Needs iperf3, socat and haproxy (Debian packages; not installed by
# scripts/deps.sh, no test needs them).
# Usage: bench/bench_relay.sh ZCOPY [ROUNDS (3)] [SECONDS (5)]
set -euo pipefail
zcopy=$1
rounds=${2:-3}
secs=${3:-5}
tmp=$(mktemp -d)
srv_port=5301
proxy_port=5302
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

iperf3 -s -p "$srv_port" >/dev/null 2>&1 &
pids+=($!)
cat >"$tmp/haproxy.cfg" <<EOF
global
	nbthread 2
	maxconn 4096
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	option splice-auto
listen relay
	bind 127.0.0.1:$proxy_port
	server s1 127.0.0.1:$srv_port
EOF

start_proxy() {
	case $1 in
	zcopy-zc) /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$zcopy" relay -e zc \
		"127.0.0.1:$proxy_port" "127.0.0.1:$srv_port" 2>/dev/null & ;;
	zcopy-splice) /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$zcopy" relay \
		-e splice "127.0.0.1:$proxy_port" "127.0.0.1:$srv_port" \
		2>/dev/null & ;;
	socat) /usr/bin/time -f '%U %S' -o "$tmp/cpu" socat \
		"TCP-LISTEN:$proxy_port,bind=127.0.0.1,fork,reuseaddr" \
		"TCP:127.0.0.1:$srv_port" 2>/dev/null & ;;
	haproxy) /usr/bin/time -f '%U %S' -o "$tmp/cpu" haproxy -db \
		-f "$tmp/haproxy.cfg" 2>/dev/null & ;;
	esac
	ppid=$!
	for _ in $(seq 50); do
		ss -ltn "sport = :$proxy_port" | grep -q LISTEN && return
		sleep 0.1
	done
	echo "$1 did not start" >&2
	exit 1
}

stop_proxy() {
	# /usr/bin/time's child gets SIGTERM (HAProxy ignores SIGINT with -db);
	# time writes when it exits.
	kill -TERM $(cat "/proc/$ppid/task/$ppid/children" 2>/dev/null) 2>/dev/null || true
	wait "$ppid" 2>/dev/null || true
	while ss -ltn "sport = :$proxy_port" | grep -q LISTEN; do sleep 0.1; done
}

# one PROXY CONNS -> "MB/s cpu_s_per_GB"
one() {
	local bytes cpu
	start_proxy "$1"
	iperf3 -c 127.0.0.1 -p "$proxy_port" -t "$secs" -P "$2" -J \
		>"$tmp/out.json" 2>/dev/null || true
	stop_proxy
	bytes=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(int(d["end"]["sum_received"]["bytes"]))' "$tmp/out.json" 2>/dev/null || echo 0)
	cpu=$(tail -n 1 "$tmp/cpu" | awk '{ print $1 + $2 }')
	python3 -c 'import sys; b=float(sys.argv[1]); c=float(sys.argv[2]); s=float(sys.argv[3]); print("%.0f %.3f" % (b/s/1e6, c/(b/1e9) if b else 0))' \
		"$bytes" "$cpu" "$secs"
}

proxies=(zcopy-zc zcopy-splice socat haproxy)
echo "loopback, iperf3 -t $secs through each proxy, $rounds interleaved rounds, medians"
printf '%-14s %6s %10s %12s\n' proxy conns "MB/s" "CPU s/GB"
for conns in 1 100; do
	declare -A tp=() cp=()
	for ((r = 0; r < rounds; r++)); do
		for ((k = 0; k < ${#proxies[@]}; k++)); do
			p=${proxies[$(((r + k) % ${#proxies[@]}))]}
			read -r t c <<<"$(one "$p" "$conns")"
			tp[$p]="${tp[$p]:-} $t"
			cp[$p]="${cp[$p]:-} $c"
		done
	done
	for p in "${proxies[@]}"; do
		printf '%-14s %6s %10s %12s\n' "$p" "$conns" \
			"$(python3 -c 'import sys,statistics; print("%.0f" % statistics.median(map(float, sys.argv[1:])))' ${tp[$p]})" \
			"$(python3 -c 'import sys,statistics; print("%.3f" % statistics.median(map(float, sys.argv[1:])))' ${cp[$p]})"
	done
	unset tp cp
done
