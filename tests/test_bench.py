#!/usr/bin/env python3
"""zcopy bench against the real kernel on loopback: results that add up,
and peers that die or talk nonsense give a clear error, never a hang.

usage: test_bench.py PATH/TO/zcopy
"""
import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

ZCOPY = None
SHORT = ["-t", "0.3", "-r", "1", "-q"]


def run(args, timeout=60):
    return subprocess.run([ZCOPY, "bench", *args], capture_output=True,
                          text=True, timeout=timeout)


class Server:
    """`zcopy bench server` on a free loopback port."""

    def __init__(self, *extra):
        self.proc = subprocess.Popen(
            [ZCOPY, "bench", "server", "-p", "0", "-B", "127.0.0.1",
             *extra], stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"listening on port (\d+)", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"server did not start: {line!r}")
        self.port = m.group(1)
        self.log = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def client(port, *args, timeout=60):
    return run(["client", "127.0.0.1", "-p", port, "--timeout", "2",
                *args], timeout=timeout)


class FakeServer:
    """A TCP listener that accepts one client and then calls behave."""

    def __init__(self, behave):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = str(self.sock.getsockname()[1])
        self.behave = behave
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            self.behave(conn)

    def close(self):
        self.sock.close()


RUN_KEYS = {"elapsed_s", "receiver_s", "gbps", "bytes_sent",
            "bytes_received", "sends", "completions", "zerocopy_bytes",
            "copied_bytes", "copied_after_all_bytes", "fallbacks",
            "send_errors", "abandoned", "recvs", "rx_mapped_bytes",
            "rx_copied_bytes", "tx_cpu_s", "rx_cpu_s", "retransmits",
            "lost_share", "datagrams_sent", "datagrams_received",
            "streams", "intervals"}
STREAM_KEYS = {"stream", "bytes_sent", "bytes_received", "gbps",
               "retransmits", "lost_share", "tx_cpu_s", "rx_cpu_s", "sends",
               "recvs"}
INTERVAL_KEYS = {"start", "end", "seconds", "bytes", "bits_per_second",
                 "retransmits"}


class BenchResults(unittest.TestCase):
    def check_tcp_udp(self, doc, obj, what):
        """Retransmits are TCP's, loss is UDP's: the other is null."""
        if doc["protocol"] == "tcp":
            self.assertIsInstance(obj["retransmits"], int, what)
            self.assertGreaterEqual(obj["retransmits"], 0, what)
            self.assertIsNone(obj["lost_share"], what)
        else:
            self.assertIsNone(obj["retransmits"], what)
            self.assertGreaterEqual(obj["lost_share"], 0, what)
            self.assertLessEqual(obj["lost_share"], 1, what)

    def check_streams(self, doc, r, what):
        self.assertEqual(len(r["streams"]), doc["streams"], what)
        for i, st in enumerate(r["streams"]):
            self.assertEqual(set(st), STREAM_KEYS, what)
            self.assertEqual(st["stream"], i + 1, what)
            self.check_tcp_udp(doc, st, what)
        for key in ("bytes_sent", "bytes_received"):
            self.assertEqual(sum(s[key] for s in r["streams"]), r[key],
                             f"{what}: {key} of the streams")
        if doc["protocol"] == "tcp":
            self.assertEqual(sum(s["retransmits"] for s in r["streams"]),
                             r["retransmits"], what)

    def check_intervals(self, doc, r, what):
        if doc["interval_s"] is None:
            self.assertEqual(r["intervals"], [], what)
            return
        self.assertTrue(r["intervals"], what)
        start = 0
        for iv in r["intervals"]:
            self.assertEqual(set(iv), {"streams", "sum"}, what)
            self.assertEqual(set(iv["sum"]), INTERVAL_KEYS, what)
            self.assertEqual(len(iv["streams"]), doc["streams"], what)
            self.assertAlmostEqual(iv["sum"]["start"], start, places=6)
            self.assertGreater(iv["sum"]["end"], iv["sum"]["start"])
            self.assertEqual(sum(s["bytes"] for s in iv["streams"]),
                             iv["sum"]["bytes"], what)
            for s in iv["streams"]:
                self.assertEqual(set(s), INTERVAL_KEYS | {"stream"}, what)
            start = iv["sum"]["end"]
        # What this end moved, interval by interval, adds up to the run:
        # the sender's bytes, or the receiver's with -R.
        mine = "bytes_received" if doc["reverse"] else "bytes_sent"
        self.assertEqual(sum(iv["sum"]["bytes"] for iv in r["intervals"]),
                         r[mine], what)

    def check_auto(self, doc, cell):
        """What auto measured and chose: at each auto end of a TCP cell,
        null elsewhere."""
        what = f"{cell['mode']} {cell['size']}"
        a = cell["auto"]
        self.assertEqual(set(a), {"sender", "receiver"}, what)
        for end, zc, mode in (("sender", "cost_zc_s_per_gb", cell["tx"]),
                              ("receiver", "cost_mapped_s_per_gb",
                               cell["rx"])):
            if a[end] is None:
                self.assertTrue(mode != "auto" or doc["protocol"] == "udp",
                                what)
                continue
            self.assertEqual(mode, "auto", what)
            self.assertEqual(set(a[end]), {"using", "why",
                                           "cost_copy_s_per_gb", zc}, what)
            self.assertIn(a[end]["why"], {"measuring", "cheaper", "kernel",
                                          "probing", "small"}, what)
            self.assertGreaterEqual(a[end]["cost_copy_s_per_gb"], 0, what)
            self.assertGreaterEqual(a[end][zc], 0, what)

    def check_json(self, out, same_bytes=True):
        doc = json.loads(out)
        for key in ("reverse", "bitrate_bps", "interval_s", "hostname",
                    "kernel", "protocol", "streams"):
            self.assertIn(key, doc)
        ran = [c for c in doc["cells"] if c["runs"]]
        self.assertTrue(ran, "no cell ran")
        for cell in ran:
            what = f"{cell['mode']} {cell['size']}"
            self.assertRegex(cell["mode"], r"^[a-z-]+:[a-z-]+$")
            self.check_tcp_udp(doc, cell, what)
            self.assertEqual(len(cell["streams"]), doc["streams"], what)
            for r in cell["runs"]:
                self.assertEqual(set(r), RUN_KEYS, what)
                self.assertGreater(r["bytes_sent"], 0)
                if same_bytes:
                    self.assertEqual(r["bytes_sent"], r["bytes_received"],
                                     what)
                else:
                    self.assertLessEqual(r["bytes_received"],
                                         r["bytes_sent"])
                self.assertEqual(r["sends"], r["completions"])
                self.check_tcp_udp(doc, r, what)
                self.check_streams(doc, r, what)
                self.check_intervals(doc, r, what)
                if doc["protocol"] == "udp":
                    self.assertGreaterEqual(r["datagrams_sent"],
                                            r["datagrams_received"])
        for cell in ran:
            self.check_auto(doc, cell)
        self.assertEqual(len(doc["verdicts"]), len({c["size"] for c in
                                                   doc["cells"]}))
        for cell in doc["cells"]:
            spread = cell["spread"]
            self.assertEqual(set(spread), {"min", "max", "median", "runs"})
            self.assertEqual(spread["runs"], len(cell["runs"]))
            if cell["runs"]:
                self.assertLessEqual(spread["min"], spread["median"])
                self.assertLessEqual(spread["median"], spread["max"])
                self.assertEqual(sum(cell["sends_by_transport"].values()),
                                 sum(r["completions"] for r in cell["runs"]))
        for v in doc["verdicts"]:
            self.assertIn(v["decision"], {"none", "only_mode",
                                          "within_noise", "winner"})
            for key in ("size", "verdict", "rule", "winner",
                        "fastest_median", "runner_up", "ratio",
                        "best_min_gbps", "others_max_gbps",
                        "same_behaviour"):
                self.assertIn(key, v)
            if v["decision"] == "winner":
                self.assertEqual(v["winner"], v["fastest_median"])
                self.assertGreater(v["best_min_gbps"], v["others_max_gbps"])
            else:
                self.assertIsNone(v["winner"])
        return doc

    def test_local_json_bytes_match(self):
        p = run(["-s", "4K,64K", "-m", "copy,msgzc", "--json", *SHORT])
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = self.check_json(p.stdout)
        modes = {c["mode"] for c in doc["cells"] if c["runs"]}
        # Every row is TX:RX, also for a mode given by its sender alone.
        self.assertEqual(modes, {"copy:auto", "msgzc:auto"})

    def test_same_mode_within_noise(self):
        # The same mode twice: no winner, whatever the numbers say.
        args = ["-m", "copy,copy", "-s", "64K", "-r", "3", "-t", "0.2",
                "-q"]
        p = run([*args, "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = self.check_json(p.stdout)
        v = doc["verdicts"][0]
        self.assertEqual(v["decision"], "within_noise", v)
        self.assertIn("within noise", v["verdict"])
        self.assertEqual(v["same_behaviour"],
                         [{"modes": ["copy:auto", "copy:auto"],
                           "every_send_by": "copy"}])
        p = run(args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"64K  no difference within noise")

    def test_client_server_json(self):
        # Both directions: this end sends, then the server (-R).
        srv = Server()
        try:
            for reverse in ([], ["-R"]):
                p = client(srv.port, "-s", "16K", "-m", "copy,msgzc", "-P",
                           "2", "--json", *reverse, *SHORT)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(self.check_json(p.stdout)["reverse"],
                                 bool(reverse))
        finally:
            srv.stop()

    def test_udp(self):
        p = run(["-u", "-s", "4K", "-m", "copy", "--json", *SHORT])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_json(p.stdout, same_bytes=False)

    def test_ipv6(self):
        try:
            socket.socket(socket.AF_INET6).bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        p = run(["-6", "-s", "4K", "-m", "copy", "--json", *SHORT])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_json(p.stdout)

    def test_unavailable_mode_reported(self):
        # Every mode from the enums runs or says why it cannot.
        p = run(["-s", "4K", "-m", "all", "--csv", *SHORT])
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        self.assertGreaterEqual(len(rows), 5)
        for row in rows:
            self.assertTrue(row["error"] == "" or
                            row["error"].startswith("unavailable: "), row)
        self.assertIn("copy:copy",
                      {r["mode"] for r in rows if not r["error"]})
        for row in rows:
            self.assertIn(":", row["mode"], row)

    def test_intervals_add_up(self):
        p = run(["-s", "64K", "-m", "copy", "-t", "1", "-r", "1", "-P", "2",
                 "-i", "0.25", "-q", "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = self.check_json(p.stdout)
        ivs = doc["cells"][0]["runs"][0]["intervals"]
        self.assertIn(len(ivs), (4, 5), ivs)
        for iv in ivs:
            self.assertIsInstance(iv["sum"]["retransmits"], int)

    def test_interval_lines(self):
        p = run(["-s", "64K", "-m", "copy", "-t", "1", "-r", "1", "-P", "2",
                 "-i", "0.5", "-q"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("[ ID] Interval           Transfer     Bitrate", p.stdout)
        self.assertRegex(p.stdout, r"\[  1\]   0\.00-0\.5\d +sec .* Gbits/sec")
        self.assertRegex(p.stdout, r"\[SUM\]   0\.00-0\.5\d +sec")

    def test_reverse(self):
        p = run(["-R", "-s", "64K", "-m", "copy", "-t", "0.5", "-r", "1",
                 "-i", "0.2", "-q", "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = self.check_json(p.stdout)
        self.assertTrue(doc["reverse"])
        r = doc["cells"][0]["runs"][0]
        self.assertGreater(r["tx_cpu_s"], 0)
        self.assertGreater(r["rx_cpu_s"], 0)
        p = run(["-R", "-u", "-s", "16K", "-m", "copy", "-t", "0.5", "-r",
                 "1", "-b", "200M", "-q", "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = self.check_json(p.stdout, same_bytes=False)
        # The server paced its sends: the client received about 200M.
        self.assertGreater(doc["cells"][0]["gbps"], 0.12)
        self.assertLess(doc["cells"][0]["gbps"], 0.22)

    def test_pacing(self):
        # -b is per stream, as in iperf3; the receiver's clock says so.
        p = run(["-u", "-s", "16K", "-m", "copy", "-t", "1", "-r", "1",
                 "-P", "2", "-b", "200M", "-q", "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = self.check_json(p.stdout, same_bytes=False)
        self.assertEqual(doc["bitrate_bps"], 200000000)
        for st in doc["cells"][0]["runs"][0]["streams"]:
            self.assertGreater(st["gbps"], 0.15, st)
            self.assertLess(st["gbps"], 0.21, st)
        p = run(["-s", "64K", "-m", "copy", "-t", "1", "-r", "1", "-b",
                 "0.3G", "-q", "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        gbps = self.check_json(p.stdout)["cells"][0]["gbps"]
        self.assertGreater(gbps, 0.24)
        self.assertLess(gbps, 0.32)

    def test_table_columns(self):
        p = run(["-s", "4K", "-m", "copy,msgzc:copy", "-P", "2", *SHORT])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        head = "\n".join(lines[2:4])
        for word in ("Gbit/s", "CPU s/GB", "sent", "copied", "received",
                     "TX:RX", "sender", "receiver", "zero-copy",
                     "after all", "mapped", "retrans"):
            self.assertIn(word, head)
        self.assertRegex(p.stdout, r"\n +4K  copy:auto ")
        self.assertRegex(p.stdout, r"\n +4K  msgzc:copy ")
        self.assertEqual(p.stdout.count("  stream 1 "), 2)
        self.assertEqual(p.stdout.count("  stream 2 "), 2)
        p = run(["-u", "-s", "4K", "-m", "copy", *SHORT])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout.splitlines()[3], r"mapped +lost$")
        self.assertRegex(p.stdout, r"4K  copy:auto .*%\n")

    def test_auto_explained(self):
        # Under each row with an auto end: the path auto used and why, and
        # the costs it measured; the same in JSON and CSV.
        args = ["-s", "4K,64K", "-m", "auto:auto,copy:copy", "-t", "0.3",
                "-r", "2", "-q"]
        p = run(args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"\n +4K  auto:auto .*\n +auto: +sender "
                         r"copy \(small\)  receiver (copy|tcpmmap) "
                         r"\([a-z]+\), s/GB copy \d+\.\d{3}")
        self.assertRegex(p.stdout, r"\n +64K  auto:auto .*\n +auto: ")
        self.assertNotRegex(p.stdout, r"copy:copy .*\n +auto:")
        p = run([*args, "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = self.check_json(p.stdout)
        for cell in doc["cells"]:
            if cell["mode"] == "copy:copy":
                self.assertEqual(cell["auto"],
                                 {"sender": None, "receiver": None})
                continue
            rx = cell["auto"]["receiver"]
            # The path auto is on is measured all along; a probe (the
            # path shown, if the run ended in one) starts from a measured
            # path, the other one.
            on_copy = (rx["using"] == "copy") != (rx["why"] == "probing")
            self.assertGreater(rx["cost_copy_s_per_gb"] if on_copy
                               else rx["cost_mapped_s_per_gb"], 0, cell)
            if cell["size"] == 4096:
                self.assertEqual(cell["auto"]["sender"]["why"], "small")
                self.assertEqual(cell["auto"]["sender"]["using"], "copy")
        p = run([*args, "--csv"])
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        for row in rows:
            auto = row["mode"] == "auto:auto"
            self.assertEqual(row["rx_auto"] != "-", auto, row)
            self.assertEqual(row["tx_auto_why"] == "small",
                             auto and row["size"] == "4096", row)

    def test_csv_and_table(self):
        p = run(["-s", "4K", "-m", "copy", "--csv", *SHORT])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("size,mode,"))
        p = run(["-s", "4K", "-m", "copy", *SHORT])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("verdict:", p.stdout)
        self.assertIn("copy:auto was the only mode", p.stdout)


class BenchFailures(unittest.TestCase):
    def test_server_killed_mid_run(self):
        srv = Server()
        c = subprocess.Popen([ZCOPY, "bench", "client", "127.0.0.1", "-p",
                              srv.port, "-s", "64K", "-m", "copy", "-t",
                              "20", "-r", "1", "-q", "--timeout", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(1)
        os.kill(srv.proc.pid, signal.SIGKILL)
        start = time.monotonic()
        out, err = c.communicate(timeout=30)
        srv.stop()
        self.assertEqual(c.returncode, 1, err)
        self.assertLess(time.monotonic() - start, 15)
        self.assertRegex(err, r"closed the control connection")

    def test_garbage_to_server(self):
        srv = Server()
        try:
            with socket.create_connection(("127.0.0.1", int(srv.port)),
                                          timeout=10) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n" + os.urandom(64))
                reply = s.recv(64)
                # An ERROR message, then the server hangs up (a reset, as
                # it leaves the rest of the garbage unread).
                self.assertTrue(reply.startswith(b"ZB\x04\x03"), reply)
                try:
                    while s.recv(64):
                        pass
                except ConnectionResetError:
                    pass
            # A well-formed header with a lying length is refused too.
            with socket.create_connection(("127.0.0.1", int(srv.port)),
                                          timeout=10) as s:
                s.sendall(b"ZB\x04\x01\xff\xff\xff\xff")
                self.assertTrue(s.recv(64).startswith(b"ZB\x04\x03"))
            self.assertEqual(srv.proc.poll(), None, "server died")
            p = client(srv.port, "-s", "4K", "-m", "copy", *SHORT)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(any("bad magic" in l for l in srv.log),
                            srv.log)
        finally:
            srv.stop()

    def test_silent_peer_after_hello(self):
        # A client that connects and says nothing must not block others
        # forever: it is dropped after the session idle timeout, but a
        # half-sent message times out at once under --timeout.
        srv = Server("--timeout", "1")
        try:
            with socket.create_connection(("127.0.0.1", int(srv.port)),
                                          timeout=10) as s:
                s.sendall(b"ZB\x04\x01\x00\x00\x00\x18")  # no payload
                start = time.monotonic()
                self.assertTrue(s.recv(64).startswith(b"ZB\x04\x03"))
                self.assertLess(time.monotonic() - start, 5)
        finally:
            srv.stop()

    def test_version_1_server(self):
        # A version-1 server's READY: told apart at once, not a timeout.
        fake = FakeServer(lambda c: (c.recv(64),
                                     c.sendall(b"ZB\x01\x02\0\0\0\x0c" +
                                               bytes(12)),
                                     time.sleep(3)))
        p = client(fake.port, "-s", "4K", "-m", "copy", *SHORT, timeout=20)
        fake.close()
        self.assertEqual(p.returncode, 1)
        self.assertIn("another bench protocol version", p.stderr)

    def test_no_data_before_go(self):
        # The receiving end says GO once its receivers wait; a client
        # sends nothing on a data stream before it, and sends after it.
        seen = {}

        def behave(c):
            data = socket.socket()
            data.bind(("127.0.0.1", 0))
            data.listen(1)
            port = data.getsockname()[1]
            c.recv(64)  # RUN
            c.sendall(b"ZB\x04\x02\0\0\0\x0c" + bytes(8) + b"\0\x01" +
                      port.to_bytes(2, "big"))
            d, _ = data.accept()
            d.settimeout(1)
            cookie = b""
            while len(cookie) < 8:
                cookie += d.recv(8 - len(cookie))
            try:
                seen["before"] = len(d.recv(65536))
            except socket.timeout:
                seen["before"] = 0
            c.sendall(b"ZB\x04\x09\0\0\0\0")  # GO
            d.settimeout(5)
            seen["after"] = len(d.recv(65536))
            d.close()
            data.close()

        fake = FakeServer(behave)
        p = client(fake.port, "-s", "4K", "-m", "copy", "-t", "0.5", "-r",
                   "1", "-q", timeout=30)
        fake.close()
        self.assertEqual(seen.get("before"), 0, p.stderr)
        self.assertGreater(seen.get("after", 0), 0, p.stderr)

    def test_garbage_server(self):
        fake = FakeServer(lambda c: (c.sendall(b"SSH-2.0-OpenSSH\r\n" * 4),
                                     time.sleep(3)))
        p = client(fake.port, "-s", "4K", "-m", "copy", *SHORT, timeout=20)
        fake.close()
        self.assertEqual(p.returncode, 1)
        self.assertIn("not a zcopy bench peer", p.stderr)

    def test_silent_server(self):
        fake = FakeServer(lambda c: time.sleep(5))
        start = time.monotonic()
        p = client(fake.port, "-s", "4K", "-m", "copy", *SHORT, timeout=20)
        fake.close()
        self.assertEqual(p.returncode, 1)
        self.assertIn("timed out", p.stderr)
        self.assertLess(time.monotonic() - start, 5)

    def test_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
        s.close()
        p = client(port, "-s", "4K", *SHORT, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("refused", p.stderr)

    def test_busy_server(self):
        # A second client hears "server busy" at once, not a timeout; the
        # first client's session goes on, and the server serves again.
        srv = Server()
        try:
            first = subprocess.Popen(
                [ZCOPY, "bench", "client", "127.0.0.1", "-p", srv.port,
                 "-s", "64K", "-m", "copy", "-t", "3", "-r", "1", "-q",
                 "--timeout", "2"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True)
            end = time.monotonic() + 10
            while not any("session started" in l for l in srv.log):
                self.assertLess(time.monotonic(), end, srv.log)
                time.sleep(0.05)
            start = time.monotonic()
            p = client(srv.port, "-s", "4K", "-m", "copy", *SHORT,
                       timeout=20)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("server busy", p.stderr)
            self.assertLess(time.monotonic() - start, 1.5)  # --timeout 2
            # What any peer reads: a BUSY message (type 7), then EOF.
            with socket.create_connection(("127.0.0.1", int(srv.port)),
                                          timeout=10) as s:
                self.assertEqual(s.recv(64), b"ZB\x04\x07\0\0\0\0")
                self.assertEqual(s.recv(64), b"")
            _, err = first.communicate(timeout=30)
            self.assertEqual(first.returncode, 0, err)
            self.assertTrue(any("turned away" in l for l in srv.log),
                            srv.log)
            p = client(srv.port, "-s", "4K", "-m", "copy", *SHORT)
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            srv.stop()

    def test_udp_size_refused(self):
        # Refused before any run, not "no mode ran" and status 0.
        p = run(["-u", "-s", "64K", "-m", "copy", *SHORT], timeout=10)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("too large for UDP (at most 65507 bytes): '64K'",
                      p.stderr)
        self.assertEqual(p.stdout, "")

    def test_bad_options(self):
        for args in (["--size", "0"], ["--mode", "nope"], ["client"],
                     ["--parallel", "1000"], ["--bogus"], ["-t", "-1"],
                     ["--json", "--csv"], ["client", "h", "extra"],
                     ["--cpu", "x"], ["-p", "0"], ["-m", "msgzc:foo"],
                     ["-u", "-s", "64K"], ["--cpu", "100000"],
                     ["--plot", "/nonexistent/x.png"]):
            p = run(args, timeout=10)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn("zcopy bench", p.stderr)


if __name__ == "__main__":
    ZCOPY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
