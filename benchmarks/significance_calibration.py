"""Calibration of the significance procedure: type-I error, power and ASO's null rate, at full counts.

Simulated experiments (`xlt_lib.stats.simulate`: 15 XNLI-like languages, 2,000
test examples each, per-run, per-language and per-example noise, null languages
independent) are put through `xlt_lib.stats.seed_table.compare_conditions` with
the default settings (Welch over seeds, Holm, alpha 0.05). Printed:

- under the null (200 datasets at 5 seeds, 100 at 3): the family-wise type-I
  error of the per-language family and of the average, with its Monte Carlo
  standard error, ASO's rate of "clearly better" readings, and how often the
  bootstrap interval over seeds excludes 0;
- with 1, 2 and 4 points planted in 5 of 15 languages (100 datasets each, 5
  seeds): the share of planted languages found, of averages found, and of
  datasets where an unplanted language is flagged;
- ASO's per-comparison null rate (`xlt_lib.stats.aso.aso_null_rate`) per design.

Usage: ``python benchmarks/significance_calibration.py [--quick]``; about 3
minutes of CPU, 10 to 15 minutes on a shared 2-core machine (``--quick``: a tenth
of the datasets). The numbers are
recorded in ``benchmarks/results/significance_calibration.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from xlt_lib.stats.aso import aso_null_rate
from xlt_lib.stats.calibration import MAIN_CONDITIONS, null_calibration, power_calibration
from xlt_lib.stats.simulate import SimulatedDesign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the datasets")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    started = time.perf_counter()
    five = SimulatedDesign(conditions=MAIN_CONDITIONS)
    print(f"design: {dataclasses.asdict(five)}\n")

    print("## Null (nothing differs): default procedure, Welch over seeds, Holm, alpha 0.05")
    print(
        "| seeds | datasets | FWER per-language family (MC s.e.) | avg row | per test | "
        "ASO 'clearly better' any language | ASO per test | ASO avg | bootstrap CI excludes 0 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for seeds, n in (((1, 2, 3, 4, 5), 200), ((1, 2, 3), 100)):
        design = dataclasses.replace(five, seeds=seeds)
        null = null_calibration(n // scale, design=design, seed=len(seeds))
        print(
            f"| {len(seeds)} | {null.n_datasets} | {null.familywise_error:.3f} ({null.mc_se(null.familywise_error):.3f}) "
            f"| {null.average_error:.3f} ({null.mc_se(null.average_error):.3f}) | {null.per_test_error:.4f} "
            f"| {null.aso_familywise_rate:.3f} | {null.aso_per_test_rate:.4f} | {null.aso_average_rate:.3f} "
            f"| {null.bootstrap_excludes_zero:.3f} |",
            flush=True,
        )
    print(f"\nelapsed {time.perf_counter() - started:.0f} s\n")

    print("## Power: points planted for code-switched in 5 of 15 languages, 5 seeds")
    print(
        "| planted (points) | datasets | planted languages found | average found | "
        "datasets with an unplanted language flagged | mean replicability count (better) |"
    )
    print("|---|---|---|---|---|---|")
    for points in (1.0, 2.0, 4.0):
        power = power_calibration(100 // scale, points, design=five, seed=int(10 * points))
        print(
            f"| {points:g} | {power.n_datasets} | {power.power_per_language:.3f} | {power.power_average:.3f} "
            f"| {power.null_languages_flagged:.3f} | {power.mean_replicated_better:.2f} |",
            flush=True,
        )
    print(f"\nelapsed {time.perf_counter() - started:.0f} s\n")

    print("## ASO per-comparison null rate (eps_min < 0.2, normal scores, 200 datasets each)")
    print("| seeds per condition | confidence 0.95 (family of one) | Bonferroni over 15 |")
    print("|---|---|---|")
    for n in (3, 5, 10):
        print(
            f"| {n} | {aso_null_rate(n, n, confidence_level=0.95):.3f} "
            f"| {aso_null_rate(n, n, confidence_level=1 - 0.05 / 15):.3f} |"
        )
    print(f"\ntotal elapsed {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
