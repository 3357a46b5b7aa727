#!/usr/bin/env python3
"""Why the 10-minute hold turned, with SQLite alone (docs/benchmarks.md, "Why the hold turned").

    python3 tests/bench/sqlite-layout.py [--stations 150000] [--rounds 80] [--batch 3000] [--merge-rows 1200000]
                                         [--parts 16] [--cache-kib 2000] [--layout both] [--dir /tmp]

Writes readings round-robin over N stations (each round one reading per station, in commits of --batch, WAL,
synchronous=NORMAL) in two layouts of kaoko's readings table, and prints per round the insert rate and the bytes the
process wrote to disk per reading (/proc/self/io write_bytes: WAL and checkpoints):
  clustered   one table WITHOUT ROWID keyed (station, seq): kaoko's schema 6-7;
  two-tables  readings appended to --parts rowid tables (by station % parts), and whenever they hold --merge-rows
              readings the fullest is merged into the clustered one in (station, seq) order, in a transaction of its
              own: kaoko's schema 8 (Store::MergeRecent); the merges' time is included, the longest is printed.
--cache-kib is SQLite's page cache (PRAGMA cache_size; 2000 KiB is SQLite's default and kaoko's).
Python's sqlite3 is the same library the service links (Debian's libsqlite3). Needs python3 only.
"""
import argparse
import os
import sqlite3
import time


def written():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("write_bytes"):
                return int(line.split()[1])
    return 0


def run(layout, args):
    path = os.path.join(args.dir, f"kaoko-layout-{layout}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA cache_size=-{args.cache_kib}")
    cols = "station INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, lv NOT NULL, rn, bt"
    db.execute(f"CREATE TABLE archive ({cols}, PRIMARY KEY (station, seq)) WITHOUT ROWID")
    for p in range(args.parts):
        db.execute(f"CREATE TABLE recent_{p} ({cols})")
    waiting = 0
    in_part = [0] * args.parts
    merges = 0
    longest = 0.0
    for rnd in range(args.rounds):
        t0 = time.time()
        w0 = written()
        for first in range(0, args.stations, args.batch):
            rows = [(s, rnd, 1_700_000_000_000 + rnd * 10_000, 1234, 5, 380)
                    for s in range(first, min(first + args.batch, args.stations))]
            db.execute("BEGIN")
            if layout == "clustered":
                db.executemany("INSERT INTO archive VALUES (?, ?, ?, ?, ?, ?)", rows)
            else:
                for p in range(args.parts):
                    mine = [r for r in rows if r[0] % args.parts == p]
                    db.executemany(f"INSERT INTO recent_{p} VALUES (?, ?, ?, ?, ?, ?)", mine)
                    in_part[p] += len(mine)
            db.execute("COMMIT")
            waiting += len(rows)
            if layout == "two-tables" and waiting >= args.merge_rows:
                p = in_part.index(max(in_part))
                m0 = time.time()
                db.execute("BEGIN")
                db.execute(f"INSERT OR IGNORE INTO archive SELECT * FROM recent_{p} ORDER BY station, seq")
                db.execute(f"DELETE FROM recent_{p}")
                db.execute("COMMIT")
                longest = max(longest, time.time() - m0)
                merges += 1
                waiting -= in_part[p]
                in_part[p] = 0
        took = time.time() - t0
        per = (written() - w0) / args.stations
        extra = f", merges {merges}, longest {longest:.2f} s" if layout == "two-tables" else ""
        print(f"{layout:10} round {rnd:3} ({rnd + 1} readings a station): {args.stations / took:>11,.0f} readings/s, "
              f"{per:>6,.0f} bytes written a reading, file {os.path.getsize(path) / 1e6:,.0f} MB{extra}", flush=True)
    db.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stations", type=int, default=150_000)
    p.add_argument("--rounds", type=int, default=80)
    p.add_argument("--batch", type=int, default=3000)
    p.add_argument("--merge-rows", type=int, default=1_200_000)
    p.add_argument("--parts", type=int, default=16)
    p.add_argument("--cache-kib", type=int, default=2000)
    p.add_argument("--layout", choices=["clustered", "two-tables", "both"], default="both")
    p.add_argument("--dir", default="/tmp")
    args = p.parse_args()
    for layout in (["clustered", "two-tables"] if args.layout == "both" else [args.layout]):
        run(layout, args)


if __name__ == "__main__":
    main()
