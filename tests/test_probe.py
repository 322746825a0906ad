#!/usr/bin/env python3
"""zcopy probe --json on loopback (and veth when root), checked against
what this kernel does: MSG_ZEROCOPY works and is copied, zcrx and devmem
are refused on lo and veth with the setting to change, TCP_ZEROCOPY_RECEIVE
maps (nearly) all with MSS 4108.
zcopy probe --to: against a zcopy bench server on loopback and, when
root, across a veth pair between two namespaces this test creates (and
removes), and to a UDP sink there."""
import json
import os
import re
import subprocess
import sys
import time

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
    # The veth MTU is 4148: a larger datagram would leave as fragments,
    # whose completion a same-host receiver may hold back indefinitely.
    udp = mech(rep, "msgzc-udp", "veth").get("detail", "")
    m = re.search(r"of (\d+) bytes", udp)
    check(m is not None and int(m.group(1)) == 4148 - 28,
          f"msgzc-udp/veth sends datagrams of the MTU less headers: {udp}")
    # Only this probe's namespaces: others may come and go meanwhile.
    mine = f"zcopy-probe-{pid}-"
    left = subprocess.run(["ip", "netns", "list"], capture_output=True,
                          text=True, check=True).stdout.split()
    check(not [n for n in left if n.startswith(mine)],
          f"namespaces {mine}a/b removed")
else:
    print("skip --netns: needs root")

# ---- --to: the real route to a peer ------------------------------------


def in_ns(ns):
    """Run in network namespace ns: nsenter, not `ip netns exec` or `ip -n`,
    which need / to be a mount point (not so in a chroot)."""
    return ["nsenter", f"--net=/run/netns/{ns}"] if ns else []


def bench_server(addr, ns=None):
    """`zcopy bench server` on a free port of addr (in namespace ns)."""
    srv = subprocess.Popen([*in_ns(ns), zcopy, "bench", "server", "-B", addr, "-p",
                            "0", "--timeout", "5"],
                           stderr=subprocess.PIPE, text=True)
    m = re.search(r"listening on port (\d+)", srv.stderr.readline())
    if not m:
        srv.kill()
        raise AssertionError("bench server did not start")
    return srv, m.group(1)


def probe_to(target, *args, ns=None):
    p = subprocess.run([*in_ns(ns), zcopy, "probe", "--to", target, "--json",
                        *args], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"probe --to {target} {args}: {p.stderr}")
    return json.loads(p.stdout) if p.returncode == 0 else {}


def check_to(rep, ifname, driver, names, what, peer=True):
    to = rep.get("to") or {}
    check(to.get("interface") == ifname,
          f"{what}: route via {ifname}: {to.get('interface')}")
    check(to.get("driver") == driver,
          f"{what}: driver {driver}: {to.get('driver')}")
    for name in names:
        m = mech(rep, name, ifname)
        check(m.get("works") is True and m.get("result") == "copied"
              and m.get("copied", 0) > 0,
              f"{what}: {name} works, the kernel said copied: "
              f"{m.get('errno')} {m.get('result')}")
        if peer:
            got = re.search(r"server received (\d+) bytes",
                            m.get("detail", ""))
            check(got and int(got.group(1)) > 0,
                  f"{what}: {name}: the server received: {m.get('detail')}")


io_uring = rep["limits"]["io_uring"]["available"]
tcp_names = ["msgzc-tcp", "msgzc-udp"] + (["uring-send-zc"] if io_uring
                                          else [])
srv, port = bench_server("127.0.0.1")
try:
    rep = probe_to(f"127.0.0.1:{port}")
    check_to(rep, "lo", None, tcp_names, "--to loopback")
    check((rep.get("to") or {}).get("peer") == "zcopy_bench_server",
          "--to loopback: a bench server")
finally:
    srv.kill()
    srv.wait()


def veth_pair():
    """Two namespaces joined by veth, 10.209.0.1 and .2; names carry our
    pid so that nothing else's is touched."""
    ns = [f"zcopy-probeto-{os.getpid()}-{s}" for s in "ab"]
    ifs = [f"zpt{os.getpid()}{s}" for s in "ab"]
    for n in ns:
        subprocess.run(["ip", "netns", "add", n], check=True)
    subprocess.run(["ip", "link", "add", ifs[0], "netns", ns[0], "type",
                    "veth", "peer", "name", ifs[1], "netns", ns[1]],
                   check=True)
    for i in range(2):
        subprocess.run([*in_ns(ns[i]), "ip", "addr", "add",
                        f"10.209.0.{i + 1}/24", "dev", ifs[i]], check=True)
        subprocess.run([*in_ns(ns[i]), "ip", "link", "set", ifs[i], "up"],
                       check=True)
    return ns, ifs


if os.geteuid() == 0:
    ns, ifs = veth_pair()
    srv = sink = None
    try:
        srv, port = bench_server("10.209.0.2", ns[1])
        rep = probe_to(f"10.209.0.2:{port}", ns=ns[0])
        check_to(rep, ifs[0], "veth", tcp_names, "--to across veth")
        check((rep.get("to") or {}).get("source") == "10.209.0.1",
              "--to across veth: from 10.209.0.1")
        # Any UDP sink: datagrams only, no protocol.
        sink = subprocess.Popen(
            [*in_ns(ns[1]), sys.executable, "-c",
             "import socket\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "s.bind(('10.209.0.2', 9999))\n"
             "print('up', flush=True)\n"
             "while s.recv(65536): pass\n"], stdout=subprocess.PIPE,
            text=True)
        sink.stdout.readline()
        rep = probe_to("10.209.0.2:9999", "--udp-sink", ns=ns[0])
        names = ["msgzc-udp"] + (["uring-send-zc-udp"] if io_uring else [])
        check_to(rep, ifs[0], "veth", names, "--to a UDP sink", peer=False)
        check((rep.get("to") or {}).get("peer") == "udp_sink",
              "--to a UDP sink: said so")
        # Nobody there: the kernel's answer, not a silent success.
        rep = probe_to("10.209.0.2:9998", "--udp-sink", ns=ns[0])
        m = mech(rep, "msgzc-udp", ifs[0])
        check(m.get("works") is False and m.get("errno") == "ECONNREFUSED",
              f"--to a closed UDP port: {m.get('errno')}")
    finally:
        for p in (srv, sink):
            if p:
                p.kill()
                p.wait()
        for n in ns:
            subprocess.run(["ip", "netns", "delete", n])
    left = subprocess.run(["ip", "netns", "list"], capture_output=True,
                          text=True, check=True).stdout.split()
    check(not set(ns) & set(left), f"namespaces {ns} removed")
else:
    print("skip --to across veth: needs root")

sys.exit(1 if failures else 0)
