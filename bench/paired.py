"""Paired before/after benchmark of bench/run.py's scenarios, for a machine shared with other work (issue 14).

    .venv/bin/python bench/paired.py \\
        --before /work/wt/perf-before=postgres://postgres@127.0.0.1:5432/jusou_perf_before \\
        --after /work/wt/perf=postgres://postgres@127.0.0.1:5432/jusou_perf_after \\
        --rounds 12 [--per-round 3] [--only "case detail"] [--json FILE]

Each side is a git worktree and its own database (migrated by that tree, then the same
`generate_municipality` and `VACUUM ANALYZE`). Two long-lived processes, one per tree, build run.py's own
scenarios and clients (run.py is taken from this file's tree, the application code from the tree measured;
each process checks that `cases` comes from its tree). In every round each scenario makes --per-round
requests in one tree and then in the other, the tree going first alternating, so both see the same load
on the machine. Reported per scenario: the median wall time of all requests, Δ = the median over the rounds
of (after ÷ before) − 1, the process CPU time per request (it hardly depends on waiting for a core), the
summed SQL time and the query count (COMMIT included, as the tests count them).
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUN_PY = Path(__file__).resolve().parent / "run.py"


def serve(tree):
    """Child: answer {"run": name, "n": n} lines on the protocol pipe with the timings of n requests."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # everything else the application prints goes to stderr
    tree = str(Path(tree).resolve())
    sys.path[:] = [tree] + [p for p in sys.path if Path(p).resolve() != RUN_PY.parent]
    os.chdir(tree)
    spec = importlib.util.spec_from_file_location("bench_run", RUN_PY)
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)  # django.setup() with the tree's settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    import cases

    if not str(Path(cases.__file__).resolve()).startswith(tree + os.sep):
        raise SystemExit(f"cases imported from {cases.__file__}, not from {tree}")
    run.configure()
    calls = {}
    for name, client, method, path, _floor, data, expect in run.scenarios():
        if client is None:
            continue

        def call(client=client, method=method, path=path, data=data, expect=expect, name=name):
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data() if callable(data) else data)
            if response.status_code not in expect:
                raise SystemExit(f"{name}: {path} answered {response.status_code}")

        for _ in range(3):
            call()
        calls[name] = call
    protocol.write(json.dumps({"ready": list(calls), "cases": cases.__file__}) + "\n")
    for line in sys.stdin:
        command = json.loads(line)
        call = calls[command["run"]]
        rows = []
        for _ in range(command["n"]):
            sql = run.SqlTimer()
            with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(sql):
                cpu, wall = time.process_time(), time.perf_counter()
                call()
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rows.append({"wall": wall, "cpu": cpu, "sql": sql.seconds, "queries": len(queries)})
        protocol.write(json.dumps(rows) + "\n")


class Side:
    def __init__(self, label, spec):
        tree, _, database_url = spec.partition("=")
        self.label, self.tree = label, tree
        env = {**os.environ, "DATABASE_URL": database_url}
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", tree],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def read(self):
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"{self.label}: the process ended (see stderr)")
        return json.loads(line)

    def run(self, name, n):
        self.process.stdin.write(json.dumps({"run": name, "n": n}) + "\n")
        self.process.stdin.flush()
        return self.read()


def median_ms(values):
    return 1000 * statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--before", help="TREE=DATABASE_URL")
    parser.add_argument("--after", help="TREE=DATABASE_URL")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--per-round", type=int, default=3)
    parser.add_argument(
        "--only", default="", help="only scenarios whose name contains this (comma-separated)"
    )
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    if not (args.before and args.after):
        parser.error("--before and --after are required")

    load_start = os.getloadavg()
    before, after = Side("before", args.before), Side("after", args.after)
    names = before.read()["ready"]
    after_names = after.read()["ready"]
    wanted = [w for w in args.only.split(",") if w]
    names = [n for n in names if n in after_names and (not wanted or any(w in n for w in wanted))]
    samples = {name: {"before": [], "after": []} for name in names}  # one list of request rows per round
    for round_index in range(args.rounds):
        started = time.perf_counter()
        for index, name in enumerate(names):
            order = (before, after) if (round_index + index) % 2 == 0 else (after, before)
            for side in order:
                samples[name][side.label].append(side.run(name, args.per_round))
        print(
            f"round {round_index + 1}/{args.rounds}: {time.perf_counter() - started:.1f} s, "
            f"load {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
            flush=True,
        )
    for side in (before, after):
        side.process.stdin.close()
        side.process.wait()
    load_end = os.getloadavg()

    result = []
    for name in names:
        row = {"scenario": name}
        for label in ("before", "after"):
            flat = [r for round_rows in samples[name][label] for r in round_rows]
            row[f"{label}_ms"] = median_ms([r["wall"] for r in flat])
            row[f"{label}_cpu_ms"] = median_ms([r["cpu"] for r in flat])
            row[f"{label}_sql_ms"] = median_ms([r["sql"] for r in flat])
            row[f"{label}_queries"] = max(r["queries"] for r in flat)
        ratios = [
            statistics.median(r["wall"] for r in a) / statistics.median(r["wall"] for r in b)
            for b, a in zip(samples[name]["before"], samples[name]["after"], strict=True)
        ]
        row["delta"] = statistics.median(ratios) - 1
        row["delta_cpu"] = row["after_cpu_ms"] / row["before_cpu_ms"] - 1
        result.append(row)

    print(
        f"\n{args.rounds} rounds × {args.per_round} requests per tree; load average "
        f"{load_start[0]:.1f}/{load_start[1]:.1f} at the start, {load_end[0]:.1f}/{load_end[1]:.1f} at the end\n"
    )
    print(
        "| scenario | before ms | after ms | paired Δ | CPU ms before → after | SQL ms before → after | queries |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in result:
        queries = f"{row['before_queries']} → {row['after_queries']}"
        print(
            f"| {row['scenario']} | {row['before_ms']:.1f} | {row['after_ms']:.1f} | {100 * row['delta']:+.0f} % | "
            f"{row['before_cpu_ms']:.1f} → {row['after_cpu_ms']:.1f} | "
            f"{row['before_sql_ms']:.1f} → {row['after_sql_ms']:.1f} | {queries} |"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "rounds": args.rounds,
                    "per_round": args.per_round,
                    "load": [load_start, load_end],
                    "scenarios": result,
                    "samples": samples,
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
