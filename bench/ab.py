#!/usr/bin/env python3
"""A/B of two builds of zcopy on the send path, interleaved in one run.

    bench/ab.py OLD_BUILD NEW_BUILD [pairs (5)] [MiB per run (64)]

Runs OLD_BUILD/bench/bench_send and NEW_BUILD/bench/bench_send one round
each, alternating which goes first, `pairs` times.  Each bench_send run
measures zcopy against a raw send()/MSG_ZEROCOPY loop on its own
connections, so the figure compared is zcopy's ratio to the raw loop of
the same run (noise between runs cancels); the table gives, per size and
mechanism, the median over pairs of NEW ratio / OLD ratio.  >= 0.98: no
regression.
"""
import statistics
import subprocess
import sys


def run(build, mib):
    out = subprocess.run([f"{build}/bench/bench_send", "1", str(mib)],
                         capture_output=True, text=True, check=True,
                         timeout=600).stdout
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 9 and f[0].isdigit():
            raw, zcopy, rawzc, zczc = map(float, f[5:9])
            rows[int(f[0])] = {"copy": zcopy / raw, "msgzc": zczc / rawzc}
    return rows


def main():
    old, new = sys.argv[1], sys.argv[2]
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    mib = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    ratios = {}
    for i in range(pairs):
        order = [(old, "old"), (new, "new")]
        if i % 2:
            order.reverse()
        got = {name: run(build, mib) for build, name in order}
        for size, r in got["new"].items():
            for mech in ("copy", "msgzc"):
                ratios.setdefault((size, mech), []).append(
                    r[mech] / got["old"][size][mech])
    print(f"{pairs} pairs, {mib} MiB per run; new/old of zcopy's ratio "
          "to the raw loop (median, min-max)")
    print(f"{'size':>8} {'copy':>22} {'msgzc':>22}")
    for size in sorted({s for s, _ in ratios}):
        cells = []
        for mech in ("copy", "msgzc"):
            v = ratios[(size, mech)]
            cells.append(f"{statistics.median(v):.3f} "
                         f"({min(v):.2f}-{max(v):.2f})")
        print(f"{size:>8} {cells[0]:>22} {cells[1]:>22}")


if __name__ == "__main__":
    main()
