"""Benchmark: hcc_core's full refresh against R survival on the same data, in one run.

Usage (from the repository root)::

    .venv/bin/python -m bench.run                    # everything, n = 95 ... 1,000,000
    .venv/bin/python -m bench.run --quick            # n <= 10,000, fewer repetitions
    .venv/bin/python -m bench.run --sizes 95 1000 --reps 5 --no-browser
    .venv/bin/python -m bench.run --profile 100000   # cProfile of one refresh at that n

Writes ``bench/out/results.json`` and ``bench/out/report.md`` and, with ``--update-results``
(the default for a full run), the generated section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import os
import sys

# OpenBLAS variables set on some machines for old builds slow a current numpy down; they are
# dropped for the benchmark process only (never in tests or CI), before numpy is imported.
_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if __name__ == "__main__" and any(v in os.environ for v in _BLAS_VARS):
    _env = {k: v for k, v in os.environ.items() if k not in _BLAS_VARS}
    _env["HCC_BENCH_UNSET_BLAS"] = ",".join(v for v in _BLAS_VARS if v in os.environ)
    os.execve(sys.executable, [sys.executable, "-m", "bench.run", *sys.argv[1:]], _env)

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from bench import refresh  # noqa: E402
from bench.make_cohorts import write_cohort  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
RESULTS_MD = BENCH / "RESULTS.md"
BEGIN, END = "<!-- BEGIN GENERATED -->", "<!-- END GENERATED -->"
ALL_SIZES = [95, 1_000, 10_000, 100_000, 1_000_000]
QUICK_SIZES = [95, 1_000, 10_000]
LOAD_MAX_BYTES = 2_000_000_000


def reps_for(n: int, reps: int) -> int:
    """Repetitions at size n: fewer at the largest sizes to keep a full run under ~20 min."""
    if n >= 1_000_000:
        return min(reps, 1)
    if n >= 100_000:
        return min(reps, 3)
    if n >= 10_000:
        return min(reps, 5)
    return reps


def r_reps_for(n: int, reps: int) -> int:
    if n >= 1_000_000:
        return 1
    if n >= 100_000:
        return min(reps, 2)
    return reps_for(n, reps)


# ---- machine ------------------------------------------------------------------------------
def _first(pattern: str, text: str) -> str:
    m = re.search(pattern, text, re.M)
    return m.group(1).strip() if m else "?"


def machine_info() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = _first(r"^MemTotal:\s+(\d+)", meminfo)
    flags = _first(r"^flags\s*:(.+)$", cpuinfo).split()
    info = {
        "nproc": os.cpu_count(),
        "cpu_model": _first(r"^model name\s*:\s*(.+)$", cpuinfo),
        "cpu_flags": [f for f in ("avx2", "avx512f", "fma") if f in flags],
        "memory_gib": round(int(mem_kb) / 2**20, 1) if mem_kb.isdigit() else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "blas_env_unset": os.environ.get("HCC_BENCH_UNSET_BLAS", ""),
        "load_average_at_start": os.getloadavg(),
    }
    import importlib.metadata as md

    for pkg in ("numpy", "scipy", "pandas", "streamlit", "altair", "lifelines", "playwright"):
        try:
            info[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            info[pkg] = None
    try:
        from threadpoolctl import threadpool_info

        info["threadpoolctl"] = threadpool_info()
    except ImportError:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info["threadpoolctl"] = "not installed"
        info["numpy_blas"] = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
        simd = cfg.get("SIMD Extensions", {})
        info["numpy_simd_found"] = simd.get("found", [])
    rscript = shutil.which("Rscript")
    if rscript:
        r = subprocess.run(
            [
                rscript,
                "-e",
                'cat(R.version.string, "|", '
                'as.character(packageVersion("survival")), "|", '
                'La_library(), "\\n")',
            ],
            capture_output=True,
            text=True,
        )
        info["r"] = r.stdout.strip() or r.stderr.strip()[-200:]
    else:
        info["r"] = None
    return info


# ---- Python side --------------------------------------------------------------------------
def _timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def python_refresh(full, reps: int, warmup: bool) -> dict:
    """Time every component ``reps`` times; return per-component lists of seconds."""
    from hcc_core import Filters, apply_filters

    filters = Filters(**refresh.FILTER_STATE)
    failing_subgroups = refresh.check_subgroups(full)
    times: dict[str, list[float]] = {}
    missing: dict[str, tuple] = {}
    errors: dict[str, str] = {}
    last: dict[str, object] = {}
    for r in range(reps + (1 if warmup else 0)):
        refresh.clear_caches()
        dt, df = _timed(lambda: apply_filters(full, filters))
        rec = {"filter": dt}
        results: dict[str, object] = {}
        for comp in refresh.components(df):
            if comp.run is None:
                missing[comp.name] = comp.missing
                continue
            try:
                dt, results[comp.name] = _timed(comp.run)
            except Exception as exc:  # report, keep measuring the rest
                errors[comp.name] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            rec[comp.name] = dt
        for comp in refresh.chart_components(results):
            if comp.run is None:
                missing[comp.name] = comp.missing
                continue
            try:
                dt, _ = _timed(comp.run)
            except Exception as exc:
                errors[comp.name] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            rec[comp.name] = dt
        if warmup and r == 0:
            continue
        for k, v in rec.items():
            times.setdefault(k, []).append(v)
        last = results
    return {
        "times": times,
        "missing": missing,
        "errors": errors,
        "results": last,
        "n_after_filter": int(len(df)),
        "subgroups": list(refresh.subgroups()),
        "failing_subgroups": failing_subgroups,
    }


CHART_COMPONENTS = ("km_chart", "cox_charts", "tables_format")


def summarise(times: dict[str, list[float]]) -> dict[str, float]:
    return {k: statistics.median(v) for k, v in times.items() if v}


def _cross_check(py: dict, r_check: dict) -> dict:
    """Largest relative differences between hcc_core's and R's values (same data)."""
    res = py["results"]
    out: dict[str, float | str] = {}

    def rel(a, b) -> float:
        a, b = np.asarray(a, float), np.asarray(b, float)
        both = np.isfinite(a) & np.isfinite(b)
        if a.shape != b.shape or (np.isfinite(a) != np.isfinite(b)).any():
            return float("inf")
        if not both.any():
            return 0.0
        return float(np.max(np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), 1e-12)))

    if "logrank" in res and "logrank_chisq_os" in r_check:
        out["logrank_chisq"] = max(
            rel(res["logrank"][0].statistic, r_check["logrank_chisq_os"]),
            rel(res["logrank"][1].statistic, r_check["logrank_chisq_pfs"]),
        )
    if "km" in res and "median_os" in r_check:
        out["km_median"] = max(
            rel(res["km"][0][1]["median"], r_check["median_os"]),
            rel(res["km"][1][1]["median"], r_check["median_pfs"]),
        )
    if "rmst" in res and "rmst_os" in r_check:
        out["rmst"] = rel(res["rmst"][0]["rmst"], r_check["rmst_os"])
    if "cox_multivariable" in res and "cox_coef_os" in r_check:
        try:
            for i, ep in enumerate(("os", "pfs")):
                t = res["cox_multivariable"][i].table
                col = next((c for c in ("coef", "log_hr", "beta") if c in t.columns), None)
                py_coef = t[col].to_numpy(float) if col else np.log(t["hr"].to_numpy(float))
                r_coef = np.array(
                    [v for v in r_check[f"cox_coef_{ep}"].values() if v not in ("NA", None)], float
                )
                out[f"cox_coef_{ep}"] = rel(py_coef, r_coef)
        except Exception as exc:
            out["cox_coef"] = f"not compared ({type(exc).__name__}: {exc})"[:200]
    return out


def r_config(components: list[str]) -> dict:
    from hcc_core import schema as S

    try:
        from hcc_core.tables import DEFAULT_TABLE_ONE_VARIABLES as t1
    except ImportError:
        t1 = ()
    return {
        "levels": {k: list(v) for k, v in S.LEVELS.items()},
        "cox_covariates": list(refresh.cox_covariates() or ()),
        "subgroups": list(refresh.subgroups()),
        "table_one_variables": list(t1),
        "filter_bclc": list(refresh.FILTER_STATE["bclc_stages"]),
        "pairwise_by": refresh.PAIRWISE_BY,
        "tau": refresh.TAU_MONTHS,
        "components": components,
    }


def run_r(csv: Path, reps: int, components: list[str], tag: str) -> dict | None:
    rscript = shutil.which("Rscript")
    if not rscript:
        return None
    cfg_path = OUT / "r_config.json"
    cfg_path.write_text(json.dumps(r_config(components), indent=1))
    out_path = OUT / f"r_times_{tag}.json"
    proc = subprocess.run(
        [rscript, str(BENCH / "bench.R"), str(cfg_path), str(csv), str(reps), str(out_path)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(out_path.read_text())


# ---- chart payload --------------------------------------------------------------------------
def km_payload(df) -> dict:
    """Bytes of the KM chart's Vega-Lite JSON and the data rows it carries."""
    from hcc_core import charts
    from hcc_core import schema as S

    fit_km = refresh._lookup("fit_km")
    if fit_km is None:
        return {"error": "fit_km not available"}
    out = {}
    for by in (S.TREATMENT_GROUP, S.LOCAL_MODALITY):
        try:
            spec = refresh.spec_json(charts.km_chart(fit_km(df, "os", by=by)))
        except Exception as exc:  # a chart that cannot be built is a finding, not a crash
            out[by] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"[:200]}
            continue
        rows = sum(len(v) for v in json.loads(spec).get("datasets", {}).values())
        out[by] = {"bytes": len(spec.encode()), "data_rows": rows}
    return out


# ---- peak memory ----------------------------------------------------------------------------
def _vm(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(_first(rf"^{field}:\s+(\d+) kB", text)) * 1024


def memory_probe(csv: str) -> None:
    """Run in a child process: load a cohort, run one full refresh, print peak RSS figures."""
    import resource

    from hcc_core import load_cohort

    res = {"after_imports_mib": _vm("VmHWM") / 2**20}
    cohort = load_cohort(csv, max_bytes=LOAD_MAX_BYTES)
    res["after_load_hwm_mib"] = _vm("VmHWM") / 2**20
    res["after_load_rss_mib"] = _vm("VmRSS") / 2**20
    res["frame_mib"] = cohort.data.memory_usage(deep=True).sum() / 2**20
    python_refresh(cohort.data, 1, warmup=False)
    res["after_refresh_hwm_mib"] = _vm("VmHWM") / 2**20
    res["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res["n"] = len(cohort.data)
    print(json.dumps(res))


def run_memory(csv: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--memory-probe", str(csv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-1500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- profile --------------------------------------------------------------------------------
def profile(n: int) -> Path:
    from hcc_core import load_cohort

    full = load_cohort(write_cohort(n), max_bytes=LOAD_MAX_BYTES).data
    python_refresh(full, 1, warmup=False)  # warm imports
    prof = cProfile.Profile()
    prof.enable()
    python_refresh(full, 1, warmup=False)
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    st.print_stats(r"hcc_core|bench|altair|scipy|pandas", 45)
    buf.write("\n\n==== by internal time ====\n")
    st.sort_stats("tottime").print_stats(30)
    path = OUT / f"profile_{n}.txt"
    path.write_text(buf.getvalue())
    return path


# ---- report ---------------------------------------------------------------------------------
def _ms(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.1f}" if s < 10 else f"{s * 1000:,.0f}"


def _sec(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def _one_line(text: str, limit: int = 200) -> str:
    """An error message fit for a table cell: first line, no pipes, bounded length."""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return first.replace("|", "/")[:limit]


# The analysis-speed targets, checked in every report: issue 14 item 6 ("no slower" than the
# quiet 2026-11-25 ratios to R) and issue 19 item 4 (absolute full-refresh times).
RATIO_TARGETS = {95: 0.28, 100_000: 0.10}
TIME_TARGETS = {95: 0.025, 100_000: 0.8}


def _totals(entry: dict) -> tuple[float, float | None]:
    """hcc_core's analyses (no charts) and their ratio to R over the components both ran."""
    py, r = entry["python_median"], entry.get("r_median") or {}
    comp = [k for k in py if k not in CHART_COMPONENTS]
    common = [k for k in comp if k in r]
    r_tot = sum(r[k] for k in common) if common else None
    ratio = sum(py[k] for k in common) / r_tot if r_tot else None
    return sum(py[k] for k in comp), ratio


def targets(res: dict) -> list[str]:
    """Markdown table: each analysis-speed target at the sizes of this run, met or not."""
    by_n = {s["n"]: s for s in res["sizes"]}
    rows = []
    for n, limit in RATIO_TARGETS.items():
        if n not in by_n:
            continue
        _, ratio = _totals(by_n[n])
        got = "-" if ratio is None else f"{ratio:.3f}"
        ok = "not measured (no R)" if ratio is None else ("met" if ratio <= limit else "NOT met")
        rows.append(f"| issue 14 item 6: n = {n:,} ratio to R <= {limit:.2f} | {got} | {ok} |")
    for n, limit in TIME_TARGETS.items():
        if n not in by_n:
            continue
        tot, _ = _totals(by_n[n])
        ok = "met" if tot <= limit else "NOT met"
        rows.append(
            f"| issue 19 item 4: n = {n:,} full refresh (analyses) <= {_sec(limit)} | "
            f"{_sec(tot)} | {ok} |"
        )
    if not rows:
        return []
    load = res["machine"]["load_average_at_start"]
    out = ["### Targets (analysis speed)\n", "| target | this run | |", "|---|---:|---|", *rows, ""]
    if load and load[0] > 1.0:
        out.append(
            f"The machine was busy at the start of this run (load average {load[0]:.2f} on "
            f"{res['machine']['nproc']} cores): absolute times are not the quiet figures the "
            "targets mean; the ratios to R, measured in the same run, are fairer.\n"
        )
    return out


def report(res: dict) -> str:
    lines = []
    m = res["machine"]
    lines.append(f"Run {m['date_utc']} · `{res['command']}`\n")
    lines.append(
        f"Machine: {m['nproc']} cores, {m['cpu_model']}, {m['memory_gib']} GiB RAM, "
        f"Linux {m['kernel']}; load average at start {m['load_average_at_start']}. "
        f"Python {m['python']} (numpy {m['numpy']}, scipy {m['scipy']}, pandas "
        f"{m['pandas']}, altair {m['altair']}, streamlit {m['streamlit']}); "
        f"{m.get('r') or 'R not installed'}. BLAS: "
        f"{m.get('numpy_blas', m.get('threadpoolctl'))}; threadpoolctl: "
        f"{'installed' if m.get('threadpoolctl') != 'not installed' else 'not installed'}"
        f"; OpenBLAS variables unset for this run: {m['blas_env_unset'] or 'none were set'}.\n"
    )
    sizes = res["sizes"]
    # Totals table
    lines.append("### 1-2. Full refresh, hcc_core vs R (median seconds)\n")
    lines.append(
        "| n | reps (py / R) | hcc_core analyses | + charts & formatting | R survival "
        "(same analyses) | ours / R | load_cohort | R read.csv |"
    )
    lines.append("|---:|---|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        py, r = s["python_median"], s.get("r_median") or {}
        ours, ratio_v = _totals(s)
        ours_all = sum(py.values())
        common = [k for k in py if k not in CHART_COMPONENTS and k in r]
        r_tot = sum(r[k] for k in common) if common else None
        ratio = f"{ratio_v:.2f}" if ratio_v is not None else "-"
        lines.append(
            f"| {s['n']:,} | {s['reps']} / {s.get('r_reps', '-')} | {_sec(ours)} | "
            f"{_sec(ours_all)} | {_sec(r_tot)} | {ratio} | {_sec(s['load_s'])} | "
            f"{_sec(s.get('r_read_s'))} |"
        )
    lines.append("")
    lines.append(
        "Ratio = hcc_core time / R time over the components both sides ran (charts and "
        "formatting have no R counterpart and are excluded from the ratio).\n"
    )
    lines.extend(targets(res))
    # Per component table
    names = []
    for s in sizes:
        for k in s["python_median"]:
            if k not in names:
                names.append(k)
    lines.append("### Per component (median ms; hcc_core / R)\n")
    lines.append("| component | " + " | ".join(f"n = {s['n']:,}" for s in sizes) + " |")
    lines.append("|---|" + "---:|" * len(sizes))
    for k in names:
        cells = []
        for s in sizes:
            p = s["python_median"].get(k)
            r = (s.get("r_median") or {}).get(k)
            cells.append(f"{_ms(p)} / {_ms(r)}" if r is not None else _ms(p))
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    lines.append("")
    na = {}
    for s in sizes:
        na.update(s.get("missing", {}))
    for k, v in na.items():
        lines.append(
            f"- **{k}: not available** (needs {', '.join(v)}, not in hcc_core yet); "
            "skipped on both sides."
        )
    failing = {}
    for s in sizes:
        for k, v in s.get("failing_subgroups", {}).items():
            failing.setdefault(k, (v, []))[1].append(f"{s['n']:,}")
    for k, (v, ns) in failing.items():
        lines.append(
            f"- Subgroup forest: **'{k}' left out** on both sides at n = {', '.join(ns)} "
            f"(the page uses it, but hcc_core's subgroup_forest raised `{v}`)."
        )
    for s in sizes:
        for k, v in s.get("errors", {}).items():
            lines.append(f"- n = {s['n']:,}: **{k} failed**: `{v}`")
        if s.get("r_error"):
            lines.append(f"- n = {s['n']:,}: R failed: `{s['r_error'][-300:]}`")
    lines.append("")
    lines.append("### Agreement with R on the same data (largest relative difference)\n")
    lines.append(
        "| n | " + " | ".join(sorted({k for s in sizes for k in s.get("check", {})})) + " |"
    )
    keys = sorted({k for s in sizes for k in s.get("check", {})})
    lines.append("|---:|" + "---:|" * len(keys))
    for s in sizes:
        c = s.get("check", {})
        lines.append(
            f"| {s['n']:,} | "
            + " | ".join(
                (f"{c[k]:.1e}" if isinstance(c.get(k), float) else str(c.get(k, "-"))) for k in keys
            )
            + " |"
        )
    lines.append("")
    lines.append("### 6. KM chart payload (Vega-Lite JSON sent to the browser, OS)\n")
    lines.append(
        "| n | by treatment_group: bytes (data rows) | by local_modality: bytes (data rows) |"
    )
    lines.append("|---:|---:|---:|")
    for s in sizes:
        p = s.get("payload", {})
        if "error" in p:
            lines.append(f"| {s['n']:,} | {p['error']} | |")
            continue
        cells = [
            f"{p[b]['bytes']:,} ({p[b]['data_rows']:,})"
            if "bytes" in p[b]
            else _one_line(p[b]["error"])
            for b in p
        ]
        lines.append(f"| {s['n']:,} | " + " | ".join(cells) + " |")
    lines.append("")
    if res.get("apptest"):
        a = res["apptest"]
        lines.append("### 3. Streamlit rerun after a filter change (AppTest, demo cohort)\n")
        if "error" in a:
            lines.append(f"Not available: {a['error']}\n")
        else:
            lines.append(
                f"{a['reps']} filter changes per page (Child-Pugh and BCLC), median ms. "
                "*Uncached*: each change a filter state never seen before (the demo "
                "results the server's sessions share and hcc_core's caches emptied "
                "first; the session keeps its per-data results, as a real click does); "
                "*cached*: the same states again.\n"
            )
            lines.append("| page | uncached | cached |")
            lines.append("|---|---:|---:|")
            for page, v in a["pages"].items():
                if "error" in v:
                    lines.append(f"| {page} | not available: {_one_line(v['error'])} | |")
                else:
                    lines.append(f"| {page} | {_ms(v['uncached'])} | {_ms(v['cached'])} |")
            lines.append("")
    if res.get("browser"):
        from bench import browser

        lines += browser.report_lines(res["browser"])
    if res.get("memory"):
        mem = res["memory"]
        lines.append("### 5. Peak memory with a 100,000-row cohort\n")
        if "error" in mem:
            lines.append(f"Not available: `{mem['error'][-300:]}`\n")
        else:
            lines.append(
                f"A Python process that imports hcc_core, loads the {mem['n']:,}-row CSV "
                "with `load_cohort` and runs one full refresh (VmHWM from "
                "/proc/self/status): after imports "
                f"{mem['after_imports_mib']:.0f} MiB, after loading "
                f"{mem['after_load_hwm_mib']:.0f} MiB (canonical frame "
                f"{mem['frame_mib']:.0f} MiB deep), after the refresh "
                f"**{mem['after_refresh_hwm_mib']:.0f} MiB** peak.\n"
            )
    return "\n".join(lines)


def update_results_md(text: str) -> None:
    body = (
        RESULTS_MD.read_text()
        if RESULTS_MD.exists()
        else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    )
    if BEGIN not in body:
        body += f"\n{BEGIN}\n{END}\n"
    head, rest = body.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    RESULTS_MD.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


# ---- main -----------------------------------------------------------------------------------
def _load(path: Path):
    from hcc_core import load_cohort

    t, cohort = _timed(lambda: load_cohort(path, max_bytes=LOAD_MAX_BYTES))
    return t, cohort.data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=None)
    ap.add_argument(
        "--reps",
        type=int,
        default=None,
        help="repetitions (default 15, 5 with --quick; capped at 5/3/1 for n >= 10k/100k/1M)",
    )
    ap.add_argument("--quick", action="store_true", help="n <= 10,000, 5 repetitions")
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-app", action="store_true", help="skip the AppTest rerun timing")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--app-reps", type=int, default=7, help="AppTest filter changes per page")
    ap.add_argument(
        "--browser-sessions",
        type=int,
        default=2,
        help="fresh browser sessions per page and cohort (9 filter clicks each)",
    )
    ap.add_argument(
        "--update-results",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="rewrite the generated part of bench/RESULTS.md (default: on for a "
        "run over all sizes)",
    )
    ap.add_argument("--profile", type=int, metavar="N", help="only profile one refresh at N")
    ap.add_argument(
        "--app-only",
        action="store_true",
        help="re-measure only items 3-5 (AppTest, browser, memory) and merge them into the "
        "last bench/out/results.json",
    )
    ap.add_argument("--memory-probe", metavar="CSV", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)

    if args.memory_probe:
        memory_probe(args.memory_probe)
        return 0
    if args.profile:
        print(profile(args.profile))
        return 0

    sizes = args.sizes or (QUICK_SIZES if args.quick else ALL_SIZES)
    reps = args.reps or (5 if args.quick else 15)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    res: dict = {"command": command.strip(), "machine": machine_info(), "sizes": []}
    print(json.dumps({k: v for k, v in res["machine"].items() if k != "threadpoolctl"}))
    if args.app_only:
        previous = json.loads((OUT / "results.json").read_text())
        res["sizes"] = previous["sizes"]
        res["command"] = f"{previous['command']}; then {res['command']}"
        sizes = []

    for i, n in enumerate(sizes):
        t0 = time.perf_counter()
        csv = write_cohort(n)
        load_s, full = _load(csv)
        py = python_refresh(full, reps_for(n, reps), warmup=(i == 0))
        entry = {
            "n": n,
            "csv": str(csv.relative_to(ROOT)),
            "load_s": load_s,
            "reps": reps_for(n, reps),
            "n_after_filter": py["n_after_filter"],
            "python_times": py["times"],
            "python_median": summarise(py["times"]),
            "missing": py["missing"],
            "errors": py["errors"],
            "subgroups": py["subgroups"],
            "failing_subgroups": py["failing_subgroups"],
        }
        if not args.no_r:
            comps = [k for k in entry["python_median"] if k not in CHART_COMPONENTS]
            r = run_r(csv, r_reps_for(n, reps), comps, str(n))
            if r is None:
                entry["r_error"] = "Rscript not installed"
            elif "error" in r:
                entry["r_error"] = r["error"]
            else:
                entry.update(
                    r_reps=r["reps"],
                    r_read_s=r["read_s"],
                    r_times=r["times"],
                    r_median=summarise(
                        {k: v if isinstance(v, list) else [v] for k, v in r["times"].items()}
                    ),
                    check=_cross_check(py, r.get("check", {})),
                )
        entry["payload"] = km_payload(full)
        res["sizes"].append(entry)
        (OUT / "results.json").write_text(json.dumps(res, indent=1, default=str))  # partial
        tot = sum(v for k, v in entry["python_median"].items() if k not in CHART_COMPONENTS)
        rtot = sum((entry.get("r_median") or {}).values())
        print(
            f"n={n:>9,}: hcc_core {tot:8.3f} s, R {rtot:8.3f} s "
            f"({time.perf_counter() - t0:.0f} s wall)",
            flush=True,
        )
        del full

    if not args.no_app:
        from bench import app_timing

        res["apptest"] = app_timing.apptest_rerun(args.app_reps)
        print("apptest:", json.dumps(res["apptest"])[:400], flush=True)
    if not args.no_browser:
        from bench import browser

        res["browser"] = browser.measure(
            sessions=args.browser_sessions, sizes=(10_000,) if args.quick else (10_000, 100_000)
        )
        print("browser:", json.dumps(res["browser"])[:400], flush=True)
    if not args.no_memory:
        res["memory"] = run_memory(write_cohort(100_000))
        print("memory:", json.dumps(res["memory"])[:400], flush=True)

    if not args.no_r and (big := [n for n in sizes if n >= 100_000]):
        from bench import load_cohort as load_bench  # load_cohort vs R read.csv, own section

        # Its own RESULTS.md section, rewritten only when the generated part is.
        load_bench.run(big, update=args.update_results is not False
                       and (args.update_results or set(ALL_SIZES) <= set(sizes)))
    (OUT / "results.json").write_text(json.dumps(res, indent=1, default=str))
    text = report(res)
    (OUT / "report.md").write_text(text)
    print(text)
    update = args.update_results
    if update is None:
        update = set(ALL_SIZES) <= {s["n"] for s in res["sizes"]}
    if update:
        update_results_md(text)
        print(f"updated {RESULTS_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
