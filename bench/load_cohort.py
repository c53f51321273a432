"""`load_cohort` against R's `read.csv` on the same file, in the same run (issue 19 item 3).

Targets: 1,000,000 rows no slower than R `read.csv`; 100,000 rows <= 1 s. Python and R take
turns (one Python load, then one R read, per repetition) so that both see the same machine load;
R is timed inside R (`system.time`, so R's start-up is not counted), with the call bench/bench.R
uses. Python's time is the whole `load_cohort`: read, column mapping, validation, derived fields.

Usage::

    .venv/bin/python -m bench.load_cohort                 # 100,000 and 1,000,000 rows, 3 reps
    .venv/bin/python -m bench.load_cohort --sizes 100000 --reps 5 --no-update

Writes bench/out/load_cohort.json and its own section of bench/RESULTS.md (between the
``load_cohort`` markers). ``python -m bench.run`` calls :func:`run` for sizes >= 100,000.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench.make_cohorts import OUT, write_cohort

__all__ = ["run", "R_READ"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- load_cohort:begin -->", "<!-- load_cohort:end -->"
# The R call of bench/bench.R: every column read, "" and NA missing, strings kept as strings.
R_READ = 'read.csv(csv, stringsAsFactors = FALSE, na.strings = c("", "NA"))'
_R_SCRIPT = (
    "csv <- commandArgs(TRUE)[1]; "
    f"t <- system.time(d <- {R_READ})[['elapsed']]; "
    "cat(sprintf('%.4f %d', t, nrow(d)))"
)
LOAD_MAX_BYTES = 2_000_000_000  # the bench files exceed the 50 MB upload limit on purpose
# Figures in issue 19 before this change (same machine, idle): load_cohort vs R read.csv, s.
BEFORE = {1_000_000: (15.7, 8.9)}


def _python_load(csv: Path) -> tuple[float, float, int]:
    from hcc_core import load_cohort

    wall, cpu = time.perf_counter(), time.process_time()
    cohort = load_cohort(csv, max_bytes=LOAD_MAX_BYTES)
    return time.perf_counter() - wall, time.process_time() - cpu, len(cohort.data)


def _r_read(csv: Path) -> tuple[float, int] | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    out = subprocess.run(
        [rscript, "--vanilla", "-e", _R_SCRIPT, str(csv)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()
    return float(out[0]), int(out[1])


def run(sizes: list[int], reps: int = 3, update: bool = True) -> dict:
    """Time both readers ``reps`` times per size; write the JSON and the RESULTS.md section."""
    res: dict = {"reps": reps, "r_call": R_READ, "sizes": []}
    _python_load(write_cohort(95))  # imports and first-call costs out of the timings
    for n in sizes:
        csv = write_cohort(n)
        py_wall, py_cpu, r_wall = [], [], []
        for _ in range(reps):
            wall, cpu, rows = _python_load(csv)
            py_wall.append(wall)
            py_cpu.append(cpu)
            r = _r_read(csv)
            if r is not None:
                r_wall.append(r[0])
                assert r[1] == rows == n, (r[1], rows, n)
        entry = {
            "n": n,
            "file_mb": csv.stat().st_size / 1e6,
            "python_s": py_wall,
            "python_cpu_s": py_cpu,
            "r_s": r_wall,
            "python_median": statistics.median(py_wall),
            "r_median": statistics.median(r_wall) if r_wall else None,
        }
        res["sizes"].append(entry)
        print(json.dumps(entry), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load_cohort.json").write_text(json.dumps(res, indent=1))
    if update:
        _update_results_md(report(res))
    return res


def report(res: dict) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"### load_cohort vs R read.csv ({stamp}, `python -m bench.load_cohort`)\n",
        f"Median of {res['reps']} alternating runs (wall seconds; R: `{res['r_call']}` timed "
        "inside R). `load_cohort` reads, maps, validates and derives; R only reads. "
        "Targets: 1,000,000 rows no slower than R; 100,000 rows <= 1 s.\n",
        "| n | file | load_cohort | (CPU) | R read.csv | ours / R | before (ours / R) |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for e in res["sizes"]:
        r = e["r_median"]
        before = BEFORE.get(e["n"])
        lines.append(
            f"| {e['n']:,} | {e['file_mb']:.0f} MB | {e['python_median']:.2f} s | "
            f"{statistics.median(e['python_cpu_s']):.2f} s | "
            + (f"{r:.2f} s | {e['python_median'] / r:.2f} |" if r else "R not installed | |")
            + (f" {before[0]} s / {before[1]} s |" if before else " |")
        )
    return "\n".join(lines) + "\n"


def _update_results_md(text: str) -> None:
    body = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    if BEGIN not in body:
        body += f"\n{BEGIN}\n{END}\n"
    head, rest = body.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    RESULTS_MD.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-update", action="store_true", help="do not rewrite bench/RESULTS.md")
    args = ap.parse_args(argv)
    print(report(run(args.sizes, args.reps, update=not args.no_update)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
