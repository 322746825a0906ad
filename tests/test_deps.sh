#!/bin/bash
# shellcheck disable=SC2317 # the conditions are called through check()
# scripts/deps.sh waits, bounded and with a message, while another apt
# holds the package locks, with a fake apt-get (nothing is installed).
set -uo pipefail
deps=$1
[ "$(id -u)" -eq 0 ] || { echo "skip: deps.sh installs only as root"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# The fake apt-get: "update" finds the lists lock taken $LOCKED times (-1:
# always), "install" logs its arguments.
cat >"$tmp/apt-get" <<'SH'
#!/bin/bash
echo "$*" >>"$FAKE_DIR/log"
for a in "$@"; do
	case $a in
	update)
		n=$(cat "$FAKE_DIR/n" 2>/dev/null || echo 0)
		echo $((n + 1)) >"$FAKE_DIR/n"
		if [ "$LOCKED" = broken ]; then
			echo "E: The repository does not have a Release file."
			exit 100
		fi
		if [ "$LOCKED" -lt 0 ] || [ "$n" -lt "$LOCKED" ]; then
			echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 1 (apt-get)"
			exit 100
		fi
		exit 0 ;;
	install) exit 0 ;;
	esac
done
exit 1
SH
chmod +x "$tmp/apt-get"

# run LOCKED TIMEOUT: deps.sh's status; its output in $tmp/out
run() {
	rm -f "$tmp/n" "$tmp/log"
	FAKE_DIR=$tmp LOCKED=$1 DEPS_LOCK_TIMEOUT=$2 DEPS_LOCK_POLL=0.1 \
		DEPS_PACKAGES=zcopy-no-such-package APT_GET=$tmp/apt-get \
		bash "$deps" >"$tmp/out" 2>&1
}

# check NAME STATUS CONDITION...: CONDITION is a command run as is.
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		sed 's/^/     /' "$tmp/out"
		fail=1
	fi
}

waited_then_installed() {
	[ "$1" -eq 0 ] && grep -q "waiting up to 30s" "$tmp/out" &&
		[ "$(cat "$tmp/n")" -eq 3 ] &&
		grep -q "DPkg::Lock::Timeout=30 install" "$tmp/log"
}
gave_up() {
	[ "$1" -ne 0 ] && grep -q "gave up after 1s" "$tmp/out" &&
		grep -q "Could not get lock" "$tmp/out" &&
		! grep -q " install" "$tmp/log"
}
gave_up_at_once() {
	[ "$1" -ne 0 ] && grep -q "gave up after 0s" "$tmp/out" &&
		[ "$(cat "$tmp/n")" -eq 1 ] && ! grep -q " install" "$tmp/log"
}
failed_at_once() {
	[ "$1" -ne 0 ] && [ "$(cat "$tmp/n")" -eq 1 ] &&
		grep -q "Release file" "$tmp/out"
}

run 2 30
check "lock taken twice: waits, then installs" waited_then_installed $?
run -1 1
check "lock never freed: gives up after the bound" gave_up $?
# A bound over before the first wait (SECONDS counts whole seconds, so a
# short one can be): still says why it gave up.
run -1 0
check "bound over at once: says it gave up" gave_up_at_once $?
run broken 30
check "other apt error: fails at once" failed_at_once $?
exit $fail
