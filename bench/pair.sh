# shellcheck shell=bash
# Shell helpers for bench/vs_plain.sh and bench/compare.sh (sourced).
# Needs: $raw (bench/raw_send), $zcopy (tools/zcopy), $tmp (a scratch
# directory), $host; TX_CPU/RX_CPU pin the two ends (empty: not pinned).
# Sets srv_pid and srv_port (zcopy_server_start) for the caller.
# shellcheck disable=SC2154,SC2034

# raw_port ERRFILE: the port a `raw_send recv` writing its stderr to
# ERRFILE says it listens on, once it does (5 s at most; the caller
# removes ERRFILE before starting it, so no older run's port is read).
raw_port() {
	local p
	for _ in $(seq 250); do
		p=$(sed -n "s/^listening \([0-9]*\)$/\1/p" "$1" 2>/dev/null)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.02
	done
	return 1
}

# pair_run PROTO SIZE SECS: one run of the plain blocking pair, two
# processes; prints the receiver's Gbit/s (first to last byte) and the
# CPU seconds per GB of the sender and of the receiver, or "nan nan nan".
pair_run() {
	local u=() a_tx=() a_rx=() rport=
	rm -f "$tmp/rx.err" "$tmp/rx.out"
	[ "$1" = udp ] && u=(-u)
	[ -n "${TX_CPU:-}" ] && a_tx=(-A "$TX_CPU")
	[ -n "${RX_CPU:-}" ] && a_rx=(-A "$RX_CPU")
	"$raw" recv "${u[@]}" "${a_rx[@]}" -B "$host" 0 >"$tmp/rx.out" \
		2>"$tmp/rx.err" &
	local rpid=$!
	rport=$(raw_port "$tmp/rx.err")
	if [ -z "$rport" ] || ! "$raw" send "${u[@]}" "${a_tx[@]}" "$host" \
		"$rport" "$2" "$3" >"$tmp/tx.out" 2>"$tmp/tx.err"; then
		kill "$rpid" 2>/dev/null
		wait "$rpid" 2>/dev/null
		echo "pair: $1 $2: $(cat "$tmp/rx.err" "$tmp/tx.err" 2>/dev/null |
			grep -v '^listening' | head -1)" >&2
		echo nan nan nan
		return
	fi
	if ! wait "$rpid"; then
		echo "pair: $1 $2: $(grep -v '^listening' "$tmp/rx.err" | head -1)" >&2
		echo nan nan nan
		return
	fi
	echo "$(sed -n 's/^rx_gbps=\([0-9.]*\).*/\1/p' "$tmp/rx.out")" \
		"$(sed -n 's/.*cpu_s_per_gb=\([0-9.]*\).*/\1/p' "$tmp/tx.out")" \
		"$(sed -n 's/.*cpu_s_per_gb=\([0-9.]*\).*/\1/p' "$tmp/rx.out")"
}

# zcopy_server_start [ARGS...]: a `zcopy bench server` on a free port of
# $host; sets srv_pid and srv_port.
zcopy_server_start() {
	"$zcopy" bench server -B "$host" -p 0 "$@" 2>"$tmp/server.log" &
	srv_pid=$!
	srv_port=
	for _ in $(seq 100); do
		srv_port=$(sed -n "s/.*listening on port \([0-9]*\).*/\1/p" 2>/dev/null \
			"$tmp/server.log")
		[ -n "$srv_port" ] && return 0
		sleep 0.05
	done
	echo "zcopy bench server did not start: $(cat "$tmp/server.log")" >&2
	return 1
}

# zcopy_run PROTO SIZE SECS MODE [ARGS...]: one run of zcopy bench client
# against the server; prints its Gbit/s as it reports it and its CPU
# seconds per GB of sender and receiver, or "nan nan nan".
zcopy_run() {
	local u=() proto=$1 size=$2 secs=$3 mode=$4
	shift 4
	[ "$proto" = udp ] && u=(-u)
	"$zcopy" bench client "$host" -p "$srv_port" "${u[@]}" -m "$mode" \
		-s "$size" -t "$secs" -r 1 -q --json "$@" 2>"$tmp/zc.err" |
		python3 -c 'import json,sys
c = json.load(sys.stdin)["cells"][0]
print(c["gbps"], c["tx_cpu_s_per_gb"], c["rx_cpu_s_per_gb"])' \
			2>/dev/null || {
		echo "zcopy: $proto $size $mode: $(head -1 "$tmp/zc.err")" >&2
		echo nan nan nan
	}
}
