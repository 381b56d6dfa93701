"""Synthetic run records with a known truth, to calibrate the significance procedure.

A calibration asks how often the procedure flags a difference that is not there
(type-I error) and how often it finds one that is (power). That needs many
experiments whose truth is known, so this module draws the table that
`xlt_lib.report.results.load_results` would read from a finished experiment, from
an explicit model of where a run's accuracy comes from:

- each language has its own base accuracy, and each condition its planted effect
  per language (``effects``; 0 everywhere is the null);
- each run (condition, seed) gets a shift shared by all its languages
  (``run_sd``: a good or bad seed), and an independent shift per language
  (``language_sd``), so that null languages are *separate draws*, not one draw
  shared by all of them;
- each test example has a difficulty shared by every run (the test set is fixed),
  and each run gets each example right or wrong with its own coin (per-example
  noise): a run's accuracy is the share of its ``n_examples`` coins that came up
  correct, as it is for a real run.

The defaults resemble the demo's XNLI: 15 languages, accuracy around 70 %, 2,000
test examples per language, three conditions and 5 seeds. Everything is drawn
from one ``numpy.random.Generator``, so a dataset is reproducible from its seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from xlt_lib.report.results import RESULT_COLUMNS

#: XNLI's 15 languages.
XNLI_LANGUAGES: tuple[str, ...] = (
    "ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip
#: name -> (condition kind, intermediate task): the study's three conditions.
CONDITIONS: dict[str, tuple[str, str]] = {
    "none": ("none", "none"),
    "monolingual": ("monolingual", "mnli"),
    "codeswitched": ("codeswitched", "mnli"),
}


@dataclass(frozen=True)
class SimulatedDesign:
    """What one simulated experiment looks like, and where its noise comes from (accuracy units)."""

    languages: tuple[str, ...] = XNLI_LANGUAGES
    conditions: Mapping[str, tuple[str, str]] = field(default_factory=lambda: dict(CONDITIONS))
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    n_examples: int = 2000
    #: Base accuracy of the reference condition per language: drawn around this mean, this spread.
    base_accuracy: float = 0.70
    base_spread: float = 0.05
    #: Shift of a whole run (all its languages), and of one run on one language, as accuracy sd.
    run_sd: float = 0.005
    language_sd: float = 0.008
    #: sd of the examples' difficulty on the logit scale (shared by every run on the same test set).
    example_sd: float = 1.0
    target: str = "xnli"


def simulate_results(
    design: SimulatedDesign = SimulatedDesign(),
    *,
    effects: Mapping[str, Mapping[str, float] | float] | None = None,
    rng: np.random.Generator | int = 0,
) -> pd.DataFrame:
    """One simulated experiment as a `load_results` table (``predictions_path`` None).

    ``effects`` maps a condition to its true accuracy shift (accuracy units, 0.02
    = 2 points) over the languages' base accuracy: one number for all languages,
    or a mapping per language (languages left out: 0). Conditions not named have
    no effect, so ``effects=None`` is the global null.
    """
    rng = np.random.default_rng(rng)
    effects = dict(effects or {})
    languages = design.languages
    base = np.clip(rng.normal(design.base_accuracy, design.base_spread, len(languages)), 0.05, 0.95)
    difficulty = rng.normal(0.0, design.example_sd, (len(languages), design.n_examples))
    rows = []
    counter = 0
    for condition, (kind, intermediate) in design.conditions.items():
        effect = effects.get(condition, 0.0)
        shift = np.array(
            [effect.get(lang, 0.0) if isinstance(effect, Mapping) else float(effect) for lang in languages]
        )
        for seed in design.seeds:
            counter += 1
            true = (
                base
                + shift
                + rng.normal(0.0, design.run_sd)
                + rng.normal(0.0, design.language_sd, len(languages))
            )
            true = np.clip(true, 0.01, 0.99)
            # Per-example probabilities around the run's accuracy, with the test set's shared difficulty.
            p = expit(logit(true)[:, None] + difficulty - _mean_offset(difficulty))
            correct = rng.random(p.shape) < p
            accuracy = correct.mean(axis=1)
            for language, acc in zip(languages, accuracy, strict=True):
                rows.append(
                    {
                        "experiment": "simulated",
                        "run_id": f"transfer-{counter:012x}",
                        "target": design.target,
                        "intermediate": intermediate,
                        "condition": condition,
                        "condition_kind": kind,
                        "seed": int(seed),
                        "language": language,
                        "accuracy": float(acc),
                        "macro_f1": float(acc),
                        "n": design.n_examples,
                        "predictions_path": None,
                    }
                )
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def _mean_offset(difficulty: np.ndarray) -> np.ndarray:
    """Per-language mean difficulty, removed so that a language's accuracy stays near its target."""
    return difficulty.mean(axis=1, keepdims=True)


def planted_effects(languages: Sequence[str], points: float, n_planted: int) -> dict[str, float]:
    """``points`` accuracy points in the first ``n_planted`` languages, 0 elsewhere (as accuracy units)."""
    return {language: points / 100 for language in list(languages)[:n_planted]}
