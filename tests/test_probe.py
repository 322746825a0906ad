#!/usr/bin/env python3
"""zcopy probe --json on loopback (and veth when root), checked against
what this kernel does: MSG_ZEROCOPY works and is copied, zcrx and devmem
are refused on lo and veth with the setting to change, TCP_ZEROCOPY_RECEIVE
maps (nearly) all with MSS 4108."""
import json
import os
import subprocess
import sys

zcopy = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def probe(*args):
    """The report, and the pid of the zcopy that made it: --netns names
    its namespaces zcopy-probe-PID-a/b and its veth ends zcpPIDa/b, so
    this test looks only at its own (another zcopy probe, or another
    test, may be running beside it)."""
    with subprocess.Popen([zcopy, "probe", "--json", *args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as p:
        out, err = p.communicate(timeout=60)
        if p.returncode:
            sys.stderr.write(err)
            raise subprocess.CalledProcessError(p.returncode, p.args)
        return json.loads(out), p.pid


def mech(rep, name, path):
    found = [m for m in rep["mechanisms"]
             if m["name"] == name and m["path"] == path]
    check(len(found) == 1, f"{name}/{path} reported once")
    return found[0] if found else {}


def check_path(rep, path, pid):
    for name in ("msgzc-tcp", "msgzc-udp", "zcopy-msgzc-tcp"):
        m = mech(rep, name, path)
        check(m.get("works") is True and m.get("errno") is None,
              f"{name}/{path} works: {m.get('errno')} {m.get('detail', '')}")
        check(m.get("result") == "copied" and m.get("zerocopy") == 0
              and m.get("copied", 0) > 0, f"{name}/{path} is copied")
    auto = mech(rep, "zcopy-auto-tcp", path)
    check(auto.get("zerocopy") == 0 and "backoff" in auto.get("detail", ""),
          f"zcopy-auto-tcp/{path} backs off: {auto.get('detail')}")
    if rep["limits"]["io_uring"]["available"]:
        for name in ("uring-send-zc", "uring-send-zc-fixed"):
            m = mech(rep, name, path)
            check(m.get("works") and m.get("result") == "copied",
                  f"{name}/{path} works and is copied")
        check(mech(rep, "uring-buf-ring", path).get("works") is True,
              f"uring-buf-ring/{path} works")
    zr = mech(rep, "tcp-zc-receive-mss4108", path)
    # 100% on a quiet machine; under load (ASan, parallel tests) a
    # segment now and then leaves a page boundary and that window is
    # copied: 98.9% has been seen.  95% leaves room for that and still
    # fails when mapping does not work (0%) or only half works.
    share = zr.get("share") or 0
    check(zr.get("works") and share >= 95.0,
          f"tcp-zc-receive-mss4108/{path} maps >= 95%: {share}")
    zcrx = mech(rep, "zcrx", path)
    check(zcrx.get("works") is False
          and zcrx.get("errno") in ("EOPNOTSUPP", "EINVAL"),
          f"zcrx/{path} unsupported: {zcrx.get('errno')}")
    own = "lo" if path == "lo" else f"zcp{pid}b"
    check("queue management" in (zcrx.get("hint") or "")
          or "ethtool" in (zcrx.get("hint") or ""),
          f"zcrx/{path} names what to change: {zcrx.get('hint')}")
    dm = mech(rep, "devmem-rx", path)
    want = "EOPNOTSUPP" if os.path.exists("/dev/udmabuf") else "ENODEV"
    check(dm.get("works") is False and dm.get("errno") == want,
          f"devmem-rx/{path} refused with {want}: {dm.get('errno')}")
    check(bool(dm.get("hint")), f"devmem-rx/{path} says why: {dm.get('hint')}")
    nics = [n for n in rep["interfaces"] if n["path"] == path]
    check(len(nics) == 1 and nics[0]["name"] == own,
          f"{path}: one interface, {own}: {[n['name'] for n in nics]}")
    check(all(n["header_split"] == "unsupported" for n in nics),
          f"no header split on {path}")


rep, pid = probe()
nodev = mech(rep, "zcrx-nodev", "lo")
if nodev.get("works"):
    print("ok   zcrx-nodev/lo works (Linux 7.1+)")
else:
    check(nodev.get("errno") in ("EOPNOTSUPP", "EPERM")
          and bool(nodev.get("hint")),
          f"zcrx-nodev/lo refused with a reason: {nodev.get('errno')}, "
          f"{nodev.get('hint')}")
with open("/proc/sys/net/core/optmem_max") as f:
    check(rep["limits"]["optmem_max"] == int(f.read()),
          "optmem_max matches /proc")
check(rep["limits"]["kernel"] == os.uname().release, "kernel release")
check_path(rep, "lo", pid)

if os.geteuid() == 0:
    rep, pid = probe("--netns")
    check_path(rep, "veth", pid)
    # Only this probe's namespaces: others may come and go meanwhile.
    mine = f"zcopy-probe-{pid}-"
    left = subprocess.run(["ip", "netns", "list"], capture_output=True,
                          text=True, check=True).stdout.split()
    check(not [n for n in left if n.startswith(mine)],
          f"namespaces {mine}a/b removed")
else:
    print("skip --netns: needs root")

sys.exit(1 if failures else 0)
