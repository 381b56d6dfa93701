"""Issue 15: planning seeds and evaluation size from pilot variance; the power formula against simulation."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from xlt_lib.cli import main
from xlt_lib.experiment.throughput import Throughput
from xlt_lib.stats.calibration import MAIN_CONDITIONS, monte_carlo_se, power_calibration, reduced_design
from xlt_lib.stats.planning import PRIOR_SEED_SD_POINTS, design_for, estimate_variance, eval_sizes
from xlt_lib.stats.power import power_of, seeds_needed
from xlt_lib.stats.seeds import welch_test
from xlt_lib.stats.simulate import SimulatedDesign, simulate_results

REPO = Path(__file__).resolve().parents[2]


def test_seed_and_example_variance_are_separated() -> None:
    # No seed effect at all: what varies is the examples' coin noise, which the binomial term bounds.
    quiet = SimulatedDesign(
        conditions=MAIN_CONDITIONS, run_sd=0.0, language_sd=0.0, seeds=tuple(range(30)), n_examples=200
    )
    variance = estimate_variance(simulate_results(quiet, rng=1), "xnli")
    assert variance.runs == 60 and variance.groups == 2
    assert variance.seed_variance < 0.2 * variance.binomial_variance
    # A large seed effect: the seed share is what is left, close to the planted run_sd.
    noisy = replace(quiet, run_sd=0.02, n_examples=2000)
    variance = estimate_variance(simulate_results(noisy, rng=2), "xnli")
    assert 0.015 < variance.seed_variance**0.5 < 0.025
    # More evaluation examples shrink only the example share.
    assert variance.sd(10_000) < variance.sd(100)
    assert variance.sd(10_000) > variance.seed_variance**0.5


def test_too_few_pilot_runs_fall_back_to_the_stated_prior() -> None:
    one_seed = simulate_results(SimulatedDesign(conditions=MAIN_CONDITIONS, seeds=(1,)), rng=0)
    variance = estimate_variance(one_seed, "xnli")
    assert variance.from_prior and variance.seed_variance == pytest.approx((PRIOR_SEED_SD_POINTS / 100) ** 2)
    assert "cannot be estimated" in variance.source and "1.9" in variance.source
    # A target the pilot never ran: the prior, and the worst-case binomial accuracy for its languages.
    absent = estimate_variance(one_seed, "pawsx", languages=["en", "de"])
    assert absent.from_prior and absent.accuracy == {"en": 0.5, "de": 0.5}


def test_the_design_needs_the_seeds_of_its_hardest_target() -> None:
    one_seed = simulate_results(SimulatedDesign(conditions=MAIN_CONDITIONS, seeds=(1,)), rng=0)
    prior = estimate_variance(one_seed, "xnli")
    design = design_for([prior], 2.0, eval_examples=1000, family_size=2)
    expected = seeds_needed(0.02, prior.sd(1000), alpha=0.05, family_size=2)
    assert design.seeds == expected and design.power >= 0.8
    assert power_of(0.02, prior.sd(1000), design.seeds - 1, family_size=2) < 0.8
    assert eval_sizes(100, 2000) == [100, 200, 500, 1000, 2000]
    assert eval_sizes(100, None) == [100, 200, 500, 1000, 2000, 5000]
    assert eval_sizes(None, 5010) == [5010]


def _pilot_sd(design: SimulatedDesign) -> float:
    """The plan's sd of a run's average, estimated from a large null pilot of ``design``."""
    pilot = simulate_results(replace(design, seeds=tuple(range(1, 41))), rng=11)
    return estimate_variance(pilot, "xnli").sd(design.n_examples)


@pytest.mark.parametrize(("seeds", "points"), [(3, 2.0), (6, 1.5)])
def test_the_power_formula_agrees_with_simulated_experiments(seeds: int, points: float) -> None:
    """`power_of` vs the share of simulated experiments whose average row Welch's test finds (alpha 0.05)."""
    design = replace(reduced_design(4), n_examples=500, seeds=tuple(range(1, seeds + 1)))
    predicted = power_of(points / 100, _pilot_sd(design), seeds)
    rng = np.random.default_rng(seeds)
    n, found = 300, 0
    for _ in range(n):
        results = simulate_results(design, effects={"codeswitched": points / 100}, rng=rng)
        averages = results.groupby(["condition", "seed"])["accuracy"].mean()
        test = welch_test(averages["codeswitched"].to_numpy(), averages["monolingual"].to_numpy())
        found += bool(test.p_value <= 0.05)
    simulated = found / n
    assert abs(simulated - predicted) <= 3 * monte_carlo_se(predicted, n) + 0.03, (simulated, predicted)


@pytest.mark.slow
def test_the_power_formula_agrees_with_the_whole_default_procedure() -> None:
    """The same through `compare_conditions` itself (`power_calibration`: the average row as the report tests it)."""
    design = replace(reduced_design(4), n_examples=500, seeds=(1, 2, 3, 4, 5))
    predicted = power_of(0.02, _pilot_sd(design), 5)
    n = 120
    simulated = power_calibration(n, 2.0, n_planted=4, design=design, n_resamples=99, seed=5).power_average
    assert abs(simulated - predicted) <= 3 * monte_carlo_se(predicted, n) + 0.03, (simulated, predicted)


# -- the command ----------------------------------------------------------------------------------


@pytest.fixture
def planning_world(tmp_path: Path, monkeypatch):
    """Runs dir with a (simulated) smoke pilot, and a throughput cache holding fake probe numbers."""
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    (tmp_path / "runs" / "smoke").mkdir(parents=True)
    monkeypatch.setattr("xlt_lib.experiment.throughput.cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setenv("XLT_AUTO_CALIBRATE", "1")
    probed: list[int] = []

    def fake_probe(jobs, parallel):
        probed.append(len(jobs))
        return {job.key: Throughput(50.0, 200.0, 30.0, "fake probe") for job in jobs}

    monkeypatch.setattr("xlt_lib.commands.planning.run_probe", fake_probe)
    return probed


def test_plan_prints_one_json_object_last(planning_world, monkeypatch, capsys) -> None:
    pilot = simulate_results(SimulatedDesign(n_examples=16, seeds=(1, 2, 3, 4)), rng=4)
    monkeypatch.setattr("xlt_lib.commands.planning.load_results", lambda directory: pilot)
    assert main(["plan", str(REPO / "params" / "smoke.yaml"), "--mde", "2"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert set(result) >= {
        "seeds_per_condition",
        "eval_examples_per_language",
        "wall_hours",
        "gpu_hours",
        "mde_points",
        "power",
    }
    assert result["mde_points"] == 2.0 and result["power"] >= 0.8 and result["gpu_hours"] is None
    assert result["seeds_per_condition"] >= 2 and result["wall_hours"] > 0
    # xnli from the pilot, pawsx (never run in it) from the prior; probes ran once, then were cached.
    text = "\n".join(out)
    assert "xnli: 12 pilot runs" in text and "pawsx: fewer than 2 completed seeds" in text
    assert result["variance_source"] == "prior"
    assert planning_world == [4]
    # More evaluation examples per language were considered (the pilot's 16 are noisy).
    assert "<- chosen" in text and result["eval_examples_per_language"] >= 16


def test_plan_without_pilot_runs_uses_the_prior(planning_world, capsys) -> None:
    assert main(["plan", str(REPO / "params" / "smoke.yaml"), "--mde", "1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert result["variance_source"] == "prior" and result["mde_points"] == 1.0
    assert "0 completed phase-3 run(s)" in out[0]
    assert sum("cannot be estimated" in line for line in out) == 2
