#!/usr/bin/env python3
"""examples/echo_server against many clients at once: TCP clients of 0 B to
4 MiB of random data that half-close and read the echo until end of
stream, UDP clients of 1 B to 16 KiB datagrams (resent on timeout: UDP may
drop), every byte checked, and the server exiting 0 after its -c clients.
On loopback, and across two network namespaces joined by veth when root
(server in one, clients in the other).

Usage: test_examples.py ECHO_SERVER
       test_examples.py --clients HOST PORT DATA_KEY   (the client side only)
"""
import os
import random
import socket
import subprocess
import sys
import threading
import time

TCP_CLIENTS = 50
UDP_CLIENTS = 8
DATAGRAMS = 40  # per UDP client
MAX_TCP = 4 << 20
MAX_DGRAM = 16 << 10
IO_TIMEOUT = 30  # seconds without progress on one connection
SERVER_TIMEOUT = 120

failures = []
lock = threading.Lock()


def fail(what):
    with lock:
        failures.append(what)
    print("FAIL " + what, flush=True)


def tcp_sizes(rng):
    """Edge sizes first (empty, one byte, around the 64 KiB receive
    buffer, the maximum), then random ones, small ones more often."""
    sizes = [0, 1, 65535, 65536, 65537, MAX_TCP]
    while len(sizes) < TCP_CLIENTS:
        sizes.append(int(MAX_TCP ** rng.random()))
    return sizes


def tcp_client(host, port, data, idx):
    try:
        s = socket.create_connection((host, port), timeout=IO_TIMEOUT)
    except OSError as e:
        fail(f"tcp {idx}: connect: {e}")
        return
    got = bytearray()
    err = []

    def send_all():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    # Write and read at once: the echo comes back while we still send.
    w = threading.Thread(target=send_all)
    w.start()
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    except OSError as e:
        err.append(e)
    w.join()
    s.close()
    if err:
        fail(f"tcp {idx}: {len(data)} B: {err[0]}")
    elif bytes(got) != data:
        off = next((i for i in range(min(len(got), len(data)))
                    if got[i] != data[i]), min(len(got), len(data)))
        fail(f"tcp {idx}: sent {len(data)} B, got {len(got)} B back, "
             f"first difference at {off}")


def udp_client(host, port, rng, idx):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    sent = set()
    deadline = time.monotonic() + IO_TIMEOUT
    for n in range(DATAGRAMS):
        size = 1 if n == 0 else MAX_DGRAM if n == 1 else \
            rng.randint(1, MAX_DGRAM)
        payload = rng.randbytes(size)
        while True:
            if time.monotonic() > deadline:
                fail(f"udp {idx}: datagram {n} ({size} B) not echoed")
                s.close()
                return
            s.sendto(payload, (host, port))
            try:
                while True:
                    reply, src = s.recvfrom(65536)
                    if src != (host, port):
                        fail(f"udp {idx}: reply from {src}")
                    elif reply == payload:
                        break
                    elif reply not in sent:
                        fail(f"udp {idx}: datagram {n}: {size} B sent, "
                             f"{len(reply)} B of something else back")
                        s.close()
                        return
                    # else a late echo of a datagram we resent: ignore
                break
            except socket.timeout:
                continue  # lost (UDP may drop): send again
        sent.add(payload)
    s.close()


def run_clients(host, port, data_key):
    """All clients in parallel, then one last TCP client: the server
    counts TCP clients (-c), so it exits only after the UDP ones."""
    rng = random.Random(data_key)
    threads = []
    for i, size in enumerate(tcp_sizes(rng)):
        data = rng.randbytes(size)
        threads.append(threading.Thread(target=tcp_client,
                                        args=(host, port, data, i)))
    for i in range(UDP_CLIENTS):
        threads.append(threading.Thread(
            target=udp_client,
            args=(host, port, random.Random(rng.random()), i)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tcp_client(host, port, b"last", TCP_CLIENTS)
    return 1 if failures else 0


def serve_and_check(cmd, client_cmd, where):
    """Start the server (cmd), read its port, run the clients, and check
    that it exits 0."""
    srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline().split()
        if len(line) != 2 or line[0] != "port":
            fail(f"{where}: server said {line!r}, not 'port N'")
            return
        port = int(line[1])
        data_key = random.randrange(1 << 30)
        print(f"{where}: port {port}, data key {data_key}", flush=True)
        if client_cmd is None:
            rc = run_clients("127.0.0.1", port, data_key)
        else:
            rc = subprocess.run(client_cmd + [str(port), str(data_key)],
                                timeout=SERVER_TIMEOUT).returncode
        if rc:
            fail(f"{where}: clients failed (data key {data_key})")
        out, _ = srv.communicate(timeout=SERVER_TIMEOUT)
        print(f"{where}: {out.strip()}", flush=True)
        if srv.returncode != 0:
            fail(f"{where}: server exited {srv.returncode}")
    except subprocess.TimeoutExpired:
        fail(f"{where}: server did not exit")
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def sh(*args):
    return subprocess.run(args, capture_output=True, text=True).returncode


def netns_case(server):
    """The server in namespace a, the clients in b, joined by veth."""
    if os.geteuid() != 0:
        print("skip veth: network namespaces need root")
        return False
    if sh("sh", "-c", "command -v ip && command -v nsenter"):
        print("skip veth: ip or nsenter not installed")
        return False
    pid = os.getpid()
    a, b = f"zcex{pid}a", f"zcex{pid}b"
    va, vb = f"zxa{pid}", f"zxb{pid}"
    net = f"10.232.{pid % 250 + 1}"
    made = []
    try:
        for ns in (a, b):
            if sh("ip", "netns", "add", ns):
                print(f"skip veth: cannot add network namespace {ns}")
                return False
            made.append(ns)
        steps = [
            ["ip", "link", "add", va, "netns", a, "type", "veth", "peer",
             "name", vb, "netns", b],
            ["ip", "-n", a, "addr", "add", f"{net}.1/24", "dev", va],
            ["ip", "-n", b, "addr", "add", f"{net}.2/24", "dev", vb],
        ]
        for ns, dev in ((a, va), (b, vb)):
            steps.append(["ip", "-n", ns, "link", "set", "lo", "up"])
            steps.append(["ip", "-n", ns, "link", "set", dev, "up"])
        for st in steps:
            # nsenter, not `ip -n`: that needs / to be a mount point.
            if st[1] == "-n":
                st = ["nsenter", f"--net=/run/netns/{st[2]}", "ip"] + st[3:]
            if sh(*st):
                print(f"skip veth: {' '.join(st)} failed")
                return False
        serve_and_check(
            ["nsenter", f"--net=/run/netns/{a}", server, "-a", f"{net}.1",
             "-p", "0", "-c", str(TCP_CLIENTS + 1)],
            ["nsenter", f"--net=/run/netns/{b}", sys.executable,
             os.path.abspath(__file__), "--clients", f"{net}.1"],
            "veth")
        return True
    finally:
        for ns in made:
            sh("ip", "netns", "del", ns)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--clients":
        return run_clients(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    server = sys.argv[1]
    serve_and_check([server, "-p", "0", "-c", str(TCP_CLIENTS + 1)], None,
                    "loopback")
    netns_case(server)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
