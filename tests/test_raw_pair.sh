#!/bin/bash
# bench/raw_send, the plain pair zcopy bench is measured against: each end
# plain or through libzcopy (-z) on loopback TCP moves data and says so;
# -z refuses UDP and pacing with exit status 2.
raw=$1
fail=0
# shellcheck source=bench/pair.sh
. "$(dirname "$0")/../bench/pair.sh" # raw_port
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait; rm -rf "$tmp"' EXIT

# pair RXFLAG TXFLAG: one 0.3 s run of 64 KiB messages.
pair() {
	local rx=$1 tx=$2 port='' out
	rm -f "$tmp/rx.err" # not the last pair's port
	"$raw" recv ${rx:+"$rx"} -B 127.0.0.1 0 >"$tmp/rx" 2>"$tmp/rx.err" &
	local pid=$!
	port=$(raw_port "$tmp/rx.err")
	out=$(timeout 30 "$raw" send ${tx:+"$tx"} 127.0.0.1 "$port" 64K 0.3)
	if ! timeout 30 tail --pid=$pid -f /dev/null || ! wait $pid; then
		echo "FAIL recv '$rx' / send '$tx': receiver: $(cat "$tmp/rx.err")"
		fail=1
		return
	fi
	if grep -q 'bytes=[1-9]' "$tmp/rx" && grep -q 'tx_gbps=[0-9]*\.[0-9]*[1-9]' <<<"$out"; then
		echo "ok   recv '$rx' / send '$tx': $(cat "$tmp/rx")"
	else
		echo "FAIL recv '$rx' / send '$tx': '$(cat "$tmp/rx")' '$out'"
		fail=1
	fi
}

for rx in "" -z; do
	for tx in "" -z; do
		pair "$rx" "$tx"
	done
done

for args in "recv -z -u 0" "send -z -b 1G 127.0.0.1 9 64K 1"; do
	# shellcheck disable=SC2086 # the words are the arguments
	err=$("$raw" $args 2>&1)
	status=$?
	if [ $status -eq 2 ] && grep -q -- '-z is for TCP' <<<"$err"; then
		echo "ok   raw_send $args: 2, '$err'"
	else
		echo "FAIL raw_send $args: status $status, '$err'"
		fail=1
	fi
done
exit $fail
