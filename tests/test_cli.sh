#!/bin/bash
# Command-line conventions: --help and --version succeed; bad input gives
# a clear message on stderr and exit status 2 (usage) or 1 (runtime).
zcopy=$1
fail=0

# expect STATUS STDERR-PATTERN ARGS...
expect() {
	local want=$1 pattern=$2 err status
	shift 2
	err=$("$zcopy" "$@" 2>&1 >/dev/null)
	status=$?
	if [ "$status" -ne "$want" ] || ! grep -qi -- "$pattern" <<<"$err"; then
		echo "FAIL zcopy $*: status $status (want $want), stderr: $err"
		fail=1
	else
		echo "ok   zcopy $*: $status, '$pattern'"
	fi
}

expect 0 '' --help
expect 0 '' --version
expect 0 '' probe --help
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
exit $fail
