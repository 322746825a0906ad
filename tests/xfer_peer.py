#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Peers that zcopy send/recv must survive, for tests/test_xfer.sh.

  xfer_peer.py evil PORT TOKEN dir|file NAME   a sender that names NAME
  xfer_peer.py flip PORT OFFSET                a relay that flips one byte
  xfer_peer.py mute                            a receiver that never answers
  xfer_peer.py quiet PORT                      a sender that never speaks

The relays and mute receivers print their listening port on the first
line of stdout.  Every wait is bounded (20 s).
"""
import socket
import struct
import sys
import threading

WAIT = 20


def msg(mtype, payload):
    return b"ZF\x01" + bytes([mtype]) + struct.pack(">I", len(payload)) + payload


def read_msg(s):
    hdr = b""
    while len(hdr) < 8:
        part = s.recv(8 - len(hdr))
        if not part:
            return None, b""
        hdr += part
    n = struct.unpack(">I", hdr[4:8])[0]
    body = b""
    while len(body) < n:
        part = s.recv(n - len(body))
        if not part:
            break
        body += part
    return hdr[3], body


def evil(port, token, kind, name):
    """HELLO, then a DIR or FILE whose name the receiver must refuse."""
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=WAIT)
    tok = token.encode()
    s.sendall(msg(1, bytes([0, len(tok)]) + struct.pack(">IQ", 1, 3) + tok))
    t, body = read_msg(s)
    if t != 2:
        print("no welcome: type %s" % t)
        return 1
    raw = name.encode()
    if kind == "dir":
        s.sendall(msg(4, struct.pack(">IH", 0o755, len(raw)) + raw))
    else:
        s.sendall(msg(5, struct.pack(">IQ", 0o644, 3) + bytes(16) +
                      struct.pack(">H", len(raw)) + raw))
    t, body = read_msg(s)
    if t == 6 and body[:2] == b"\x00\x00":  # asked for the bytes
        s.sendall(b"abc")
        t, body = read_msg(s)
    code = struct.unpack(">H", body[:2])[0] if len(body) >= 2 else -1
    print("answer type %s code %d %s" % (t, code, body[4:].decode(errors="replace")))
    return 0


def pipe(src, dst, flip_at):
    seen = 0
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if flip_at is not None and seen <= flip_at < seen + len(data):
                i = flip_at - seen
                data = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
            seen += len(data)
            dst.sendall(data)
    except OSError:
        pass
    for s in (dst,):
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def flip(port, offset):
    """Relay one connection to PORT, flipping the byte at OFFSET of the
    client's stream."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(WAIT)
    print(lst.getsockname()[1], flush=True)
    c, _ = lst.accept()
    c.settimeout(WAIT)
    u = socket.create_connection(("127.0.0.1", int(port)), timeout=WAIT)
    t = threading.Thread(target=pipe, args=(u, c, None))
    t.start()
    pipe(c, u, int(offset))
    t.join(WAIT)
    return 0


def mute():
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    lst.settimeout(WAIT)
    print(lst.getsockname()[1], flush=True)
    c, _ = lst.accept()
    c.settimeout(WAIT)
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass
    return 0


def quiet(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=WAIT)
    s.settimeout(WAIT)
    try:
        s.recv(1)  # until the receiver gives up on us
    except OSError:
        pass
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "evil" and len(argv) == 6:
        return evil(*argv[2:])
    if cmd == "flip" and len(argv) == 4:
        return flip(*argv[2:])
    if cmd == "mute" and len(argv) == 2:
        return mute()
    if cmd == "quiet" and len(argv) == 3:
        return quiet(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
