"""Seeded synthetic cohorts in the canonical schema, at any size, for the benchmark.

Unlike ``scripts/make_demo_cohort.py`` (95 patients calibrated to the paper by a slow search),
this generator is fully vectorised so that 10^6 patients take a few seconds. Distributions are
loosely those of the paper's cohort; survival follows a proportional-hazards model with the
paper's covariates, times are whole days converted to months (so large cohorts have many tied
event times, as registry data do), and a few values are missing at random.

Usage::

    .venv/bin/python -m bench.make_cohorts --sizes 95 1000 --out bench/out
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from hcc_core import schema as S

__all__ = ["make_cohort", "write_cohort", "cohort_path", "SEED"]

SEED = 20260125
OUT = Path(__file__).resolve().parent / "out"


def _choice(rng: np.random.Generator, levels: tuple, p: list[float], n: int) -> np.ndarray:
    return np.asarray(levels, dtype=object)[rng.choice(len(levels), size=n, p=p)]


def _yes_no(rng: np.random.Generator, p_yes: float, n: int) -> np.ndarray:
    return np.where(rng.random(n) < p_yes, S.YES, S.NO).astype(object)


def make_cohort(n: int, seed: int = SEED) -> pd.DataFrame:
    """Return ``n`` synthetic patients as a canonical DataFrame (deterministic for a seed)."""
    rng = np.random.default_rng([seed, n])
    modality = _choice(rng, S.LEVELS[S.LOCAL_MODALITY], [0.41, 0.25, 0.21, 0.13], n)
    local = modality != S.MODALITY_NONE
    group = np.where(local, S.LOCAL_SYSTEMIC, S.SYSTEMIC).astype(object)

    age = np.clip(np.round(rng.normal(60.6, 10.7, n)), 25, 90).astype(int)
    sex = np.where(rng.random(n) < 0.87, "M", "F").astype(object)
    albumin = np.round(np.clip(rng.normal(42.0, 5.2, n), 22.0, 58.0), 1)
    bilirubin = np.round(np.clip(rng.lognormal(np.log(17.0), 0.45, n), 3.0, 80.0), 1)
    albi = 0.66 * np.log10(bilirubin) - 0.085 * albumin
    albi_grade = np.where(albi <= -2.60, 1, np.where(albi <= -1.39, 2, 3))
    # Child-Pugh B more likely with a worse ALBI score.
    p_b = 1.0 / (1.0 + np.exp(-(albi + 2.6) * 4.0 - np.log(0.19 / 0.81)))
    cp_b = rng.random(n) < np.clip(p_b, 0.02, 0.9)
    cp_class = np.where(cp_b, "B", "A").astype(object)
    cp_score = np.where(cp_b, rng.integers(7, 10, n), rng.integers(5, 7, n))
    bclc = _choice(rng, ("A", "B", "C"), [0.13, 0.52, 0.35], n)
    tumor_number = np.where(rng.random(n) < 0.085, "single", "multiple").astype(object)
    diameter = np.round(np.clip(rng.lognormal(np.log(5.6), 0.6, n), 0.5, 30.0), 1)
    afp = np.round(np.clip(rng.lognormal(np.log(170.0), 2.6, n), 0.5, 200000.0), 1)
    hepatitis = _yes_no(rng, 0.81, n)
    av_fistula = _yes_no(rng, 0.14, n)
    extrahepatic = _yes_no(rng, 0.22, n)

    # Proportional hazards on the paper's covariates (log-HR per unit, monthly base hazard).
    lp = (
        -0.55 * local
        + 0.010 * (age - 60)
        + 0.40 * cp_b
        + 0.35 * (bclc == "C")
        - 0.30 * (bclc == "A")
        + 0.25 * (tumor_number == "multiple")
        + 0.04 * (diameter - 5.6)
        + 0.30 * (afp >= 400)
        + 0.25 * (extrahepatic == S.YES)
    )
    death_days = rng.exponential(30.4375 / (0.032 * np.exp(lp)))
    prog_days = rng.exponential(30.4375 / (0.075 * np.exp(lp - 0.15 * local)))
    accrual = rng.uniform(0, 1461, n)  # four years of enrolment, then follow-up to a fixed date
    follow_days = 1461 + 120 - accrual
    lost = rng.random(n) < 0.06
    follow_days = np.where(lost, rng.uniform(30, follow_days), follow_days)
    os_days = np.maximum(1, np.floor(np.minimum(death_days, follow_days))).astype(int)
    os_event = (death_days <= follow_days).astype(int)
    pfs_days = np.maximum(1, np.floor(np.minimum(prog_days, os_days))).astype(int)
    pfs_event = np.where(prog_days < os_days, 1, os_event)
    pfs_days = np.minimum(pfs_days, os_days)

    # Best response: better with local therapy and with a lower linear predictor.
    u = rng.random(n) + 0.18 * local - 0.15 * np.tanh(lp)
    cuts = np.array([1.09, 0.80, 0.45, 0.05])  # >=: CR, PR, SD, PD, else NE
    response = np.select(
        [u >= cuts[0], u >= cuts[1], u >= cuts[2], u >= cuts[3]], ["CR", "PR", "SD", "PD"], "NE"
    ).astype(object)

    start = pd.Timestamp("2019-01-01") + pd.to_timedelta(np.floor(accrual), unit="D")
    os_td = pd.to_timedelta(os_days, unit="D")
    prog_only = prog_days < os_days
    df = pd.DataFrame(
        {
            S.PATIENT_ID: [f"B{n}-{i:07d}" for i in range(1, n + 1)],
            S.LOCAL_MODALITY: modality,
            S.TREATMENT_GROUP: group,
            S.AGE: age,
            S.SEX: sex,
            S.ALBUMIN: albumin,
            S.BILIRUBIN: bilirubin,
            S.ALBI_SCORE: np.round(albi, 3),
            S.ALBI_GRADE: albi_grade,
            S.CHILD_PUGH_CLASS: cp_class,
            S.CHILD_PUGH_SCORE: cp_score,
            S.BCLC_STAGE: bclc,
            S.TUMOR_NUMBER: tumor_number,
            S.MAX_DIAMETER: diameter,
            S.AFP: afp,
            S.CHRONIC_HEPATITIS: hepatitis,
            S.AV_FISTULA: av_fistula,
            S.EXTRAHEPATIC_SUPPLY: extrahepatic,
            S.TARGETED_AGENT: _choice(
                rng, ("lenvatinib", "sorafenib", "donafenib"), [0.6, 0.25, 0.15], n
            ),
            S.IMMUNOTHERAPY_AGENT: _choice(
                rng, ("camrelizumab", "sintilimab", "tislelizumab"), [0.4, 0.35, 0.25], n
            ),
            S.OS_MONTHS: np.round(os_days / S.DAYS_PER_MONTH, 2),
            S.OS_EVENT: os_event,
            S.PFS_MONTHS: np.round(pfs_days / S.DAYS_PER_MONTH, 2),
            S.PFS_EVENT: pfs_event,
            S.BEST_RESPONSE: response,
        }
    )
    # Adverse events: worst grade 0-4, more systemic toxicity than local.
    for term, category in S.AE_CATEGORY.items():
        base = {"local": 0.05, "systemic": 0.12, "laboratory": 0.07}[category]
        p_any = base + (0.08 if category == "local" else 0.04) * local
        any_ae = rng.random(n) < p_any
        grade = np.where(rng.random(n) < 0.85, rng.integers(1, 3, n), rng.integers(3, 5, n))
        df[term] = np.where(any_ae, grade, 0)
    df[S.TREATMENT_START_DATE] = start
    df[S.PROGRESSION_DATE] = (start + pd.to_timedelta(pfs_days, unit="D")).where(prog_only)
    df[S.DEATH_DATE] = (start + os_td).where(os_event == 1)
    df[S.LAST_FOLLOWUP_DATE] = (start + os_td).where(os_event == 0)

    # About 1% missing at random in a few baseline columns, as in real registries.
    for col in (S.AFP, S.MAX_DIAMETER, S.ALBUMIN):
        df.loc[rng.random(n) < 0.01, col] = np.nan
    df.loc[df[S.ALBUMIN].isna(), [S.ALBI_SCORE]] = np.nan
    df[S.ALBI_GRADE] = df[S.ALBI_GRADE].astype("Int64").mask(df[S.ALBI_SCORE].isna())
    return df


def cohort_path(n: int, out: Path = OUT) -> Path:
    return Path(out) / f"cohort_{n}.csv"


def write_cohort(n: int, out: Path = OUT, seed: int = SEED, force: bool = False) -> Path:
    """Write ``cohort_{n}.csv`` under ``out`` (reused when it exists unless ``force``)."""
    path = cohort_path(n, out)
    if path.exists() and not force:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    df = make_cohort(n, seed)
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, index=False, date_format="%Y-%m-%d")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[95, 1000, 10_000, 100_000, 1_000_000])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--force", action="store_true", help="regenerate existing files")
    args = ap.parse_args(argv)
    for n in args.sizes:
        print(write_cohort(n, args.out, force=args.force))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
