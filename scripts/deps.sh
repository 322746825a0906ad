#!/bin/bash
# Install the Debian packages zcopy needs to build and test, if missing.
# Another apt or dpkg (unattended-upgrades, a second `make`) may hold the
# package locks: wait for it, up to DEPS_LOCK_TIMEOUT seconds (300), with a
# message, instead of failing at once.
# For tests: DEPS_PACKAGES replaces the package list, APT_GET the apt-get.
set -euo pipefail

pkgs=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev
      liburing-dev libcmocka-dev libjansson-dev libmnl-dev libuv1-dev libevent-dev
      libxxhash-dev
      cppcheck clang-tidy clang-format man-db
      iproute2 nftables ethtool util-linux gnuplot-nox iperf3 python3 procps)
[ -n "${DEPS_PACKAGES:-}" ] && read -ra pkgs <<<"$DEPS_PACKAGES"
lock_wait=${DEPS_LOCK_TIMEOUT:-300}
apt=("${APT_GET:-apt-get}" -o "DPkg::Lock::Timeout=$lock_wait")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi

# apt-get install waits for the dpkg lock (DPkg::Lock::Timeout), but
# apt-get update (apt 2.6) fails at once on the package lists lock: retry it
# while that is the reason, within the same bound.
update() {
	local start=$SECONDS said=0 out

	until out=$("${apt[@]}" update -qq 2>&1); do
		if ! grep -q 'Could not get lock' <<<"$out"; then
			echo "$out" >&2
			return 1
		fi
		# Said even when the bound passed before a first wait: SECONDS
		# counts whole seconds, so a short bound can end at once.
		if ((SECONDS - start >= lock_wait)); then
			echo "$out" >&2
			echo "deps: gave up after ${lock_wait}s" >&2
			return 1
		fi
		if ((!said)); then
			echo "deps: another apt holds the package lists lock;" \
				"waiting up to ${lock_wait}s"
			said=1
		fi
		sleep "${DEPS_LOCK_POLL:-3}"
	done
}

echo "deps: installing ${missing[*]}"
echo "deps: (if another apt or dpkg is running, waiting up to ${lock_wait}s" \
	"for its lock)"
export DEBIAN_FRONTEND=noninteractive
update
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
