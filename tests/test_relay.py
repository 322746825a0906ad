#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""zcopy relay between a client and a server in network namespaces.

Three namespaces joined by veth (client - relay - server), for each
engine (zc, splice): 100 parallel connections whose bytes come back intact
(the server answers only after the client's end of stream reached it, so
half-close is passed on both ways), a client that resets mid-stream (the
server sees the reset), a server that resets mid-stream (the client sees
it), and one line of counters per connection.  Every wait is bounded.

Usage: test_relay.py ZCOPY
(the modes "serve" and "client" run inside the namespaces)
"""
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

WAIT = 30
CONNS = 100
PORT_S, PORT_R = 7000, 7001


def payload(i):
    return random.Random(i).randbytes(128 * 1024 + 977 * i)


def recv_all(s):
    out = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            return b"".join(out)
        out.append(b)


# ---- inside the server namespace --------------------------------------------

def serve_one(c):
    c.settimeout(WAIT)
    try:
        kind = c.recv(1)
        if kind == b"E":  # echo everything once the client's stream ended
            data = recv_all(c)
            c.sendall(data)
            c.close()
        elif kind == b"W":  # wait for the client's reset
            try:
                while c.recv(65536):
                    pass
                print("W-eof", flush=True)
            except ConnectionResetError:
                print("W-reset", flush=True)
        elif kind == b"R":  # reset the client mid-stream
            got = 0
            while got < 65536:
                got += len(c.recv(65536))
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            c.close()
    except OSError as e:
        print("server error %s" % e, flush=True)


def serve(addr):
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((addr, PORT_S))
    lst.listen(256)
    print("ready", flush=True)
    while True:
        c, _ = lst.accept()
        threading.Thread(target=serve_one, args=(c,), daemon=True).start()


# ---- inside the client namespace --------------------------------------------

def echo_one(addr, i, results):
    data = payload(i)
    try:
        s = socket.create_connection((addr, PORT_R), timeout=WAIT)
        got = []
        t = threading.Thread(target=lambda: got.append(recv_all(s)))
        t.start()
        s.sendall(b"E" + data)
        s.shutdown(socket.SHUT_WR)  # half-close: the server answers now
        t.join(WAIT)
        results[i] = bool(got) and got[0] == data
        s.close()
    except OSError as e:
        print("client %d: %s" % (i, e), flush=True)
        results[i] = False


def client(addr):
    results = [None] * CONNS
    threads = [threading.Thread(target=echo_one, args=(addr, i, results))
               for i in range(CONNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * WAIT)
    good = sum(1 for r in results if r)
    print("echo %d/%d" % (good, CONNS), flush=True)

    # The client resets mid-stream.
    s = socket.create_connection((addr, PORT_R), timeout=WAIT)
    s.sendall(b"W" + bytes(100000))
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()

    # The server resets mid-stream.
    s = socket.create_connection((addr, PORT_R), timeout=WAIT)
    seen = "nothing"
    try:
        s.sendall(b"R")
        end = time.time() + WAIT
        while time.time() < end:
            s.sendall(bytes(65536))
            time.sleep(0.01)
    except (ConnectionResetError, BrokenPipeError):
        seen = "reset"
    except OSError as e:
        seen = str(e)
    if seen == "reset":
        try:
            seen = "reset" if not s.recv(1) else "data"
        except ConnectionResetError:
            seen = "reset"
        except OSError:
            pass
    print("R-%s" % seen, flush=True)
    return 0 if good == CONNS else 1


# ---- the driver ---------------------------------------------------------------

def sh(*cmd):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def netns_setup(tag):
    names = {k: "zr%s%d" % (k, os.getpid()) for k in "crs"}
    for n in names.values():
        if sh("ip", "netns", "add", n):
            return None, names
    ins = {k: ["nsenter", "--net=/run/netns/" + n] for k, n in names.items()}
    cmds = [
        ["ip", "link", "add", "zrc%d" % os.getpid(), "netns", names["c"],
         "type", "veth", "peer", "name", "zrr%d" % os.getpid(), "netns",
         names["r"]],
        ["ip", "link", "add", "zrq%d" % os.getpid(), "netns", names["r"],
         "type", "veth", "peer", "name", "zrs%d" % os.getpid(), "netns",
         names["s"]],
        ins["c"] + ["ip", "addr", "add", "10.234.1.1/24", "dev",
                    "zrc%d" % os.getpid()],
        ins["r"] + ["ip", "addr", "add", "10.234.1.2/24", "dev",
                    "zrr%d" % os.getpid()],
        ins["r"] + ["ip", "addr", "add", "10.234.2.1/24", "dev",
                    "zrq%d" % os.getpid()],
        ins["s"] + ["ip", "addr", "add", "10.234.2.2/24", "dev",
                    "zrs%d" % os.getpid()],
    ]
    for dev, k in (("zrc", "c"), ("zrr", "r"), ("zrq", "r"), ("zrs", "s")):
        cmds.append(ins[k] + ["ip", "link", "set", "%s%d" % (dev, os.getpid()),
                              "up"])
    for c in cmds:
        if sh(*c):
            return None, names
    return ins, names


def read_line(proc, want, timeout):
    out = []
    end = time.time() + timeout

    def rd():
        for line in proc.stdout:
            out.append(line.strip())
            if line.strip().startswith(want):
                return
    t = threading.Thread(target=rd, daemon=True)
    t.start()
    t.join(max(0.0, end - time.time()))
    return [l for l in out if l.startswith(want)], out


def run_engine(zcopy, ins, engine):
    fails = []
    me = os.path.abspath(__file__)
    server = subprocess.Popen(ins["s"] + [sys.executable, me, "serve",
                                          "10.234.2.2"],
                              stdout=subprocess.PIPE, text=True)
    relay = subprocess.Popen(ins["r"] + [zcopy, "relay", "-e", engine, "-v",
                                         "10.234.1.2:%d" % PORT_R,
                                         "10.234.2.2:%d" % PORT_S],
                             stderr=subprocess.PIPE, text=True)
    try:
        ready, _ = read_line(server, "ready", 10)
        if not ready:
            return ["server did not start"]
        line = relay.stderr.readline()
        if "listening" not in line:
            return ["relay did not start: %s" % line]
        cl = subprocess.run(ins["c"] + [sys.executable, me, "client",
                                        "10.234.1.2"],
                            stdout=subprocess.PIPE, text=True,
                            timeout=4 * WAIT)
        out = cl.stdout.split("\n")
        if "echo %d/%d" % (CONNS, CONNS) not in out:
            fails.append("%d parallel connections: %s" % (CONNS, cl.stdout))
        if "R-reset" not in out:
            fails.append("server reset not passed on: %s" % cl.stdout)
        seen, all_lines = read_line(server, "W-", 10)
        if seen != ["W-reset"]:
            fails.append("client reset not passed on: %s" % all_lines)
    except subprocess.TimeoutExpired:
        fails.append("client timed out")
    finally:
        relay.terminate()
        try:
            _, err = relay.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            relay.kill()
            _, err = relay.communicate()
        server.kill()
        server.wait()
    closed = err.count(", closed")
    resets = err.count(", reset")
    if relay.returncode != 0:
        fails.append("relay exit status %d: %s" % (relay.returncode, err))
    if closed < CONNS or resets < 2:
        fails.append("counters: %d closed, %d reset lines: %s" %
                     (closed, resets, err[-2000:]))
    return fails


def main(argv):
    if len(argv) == 3 and argv[1] == "serve":
        return serve(argv[2])
    if len(argv) == 3 and argv[1] == "client":
        return client(argv[2])
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("skip: needs root for network namespaces")
        return 77
    ins, names = netns_setup("r")
    try:
        if not ins:
            print("skip: cannot build the namespaces")
            return 77
        status = 0
        for engine in ("zc", "splice"):
            fails = run_engine(argv[1], ins, engine)
            for f in fails:
                print("FAIL %s: %s" % (engine, f))
            if not fails:
                print("ok   %s: %d parallel connections intact, half-close "
                      "and resets passed on, counters per connection" %
                      (engine, CONNS))
            status |= bool(fails)
        return status
    finally:
        for n in names.values():
            sh("ip", "netns", "del", n)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
