"""The one validation layer: declared constraints, one checker, errors that name origin and key."""

from __future__ import annotations

import inspect
import math
import subprocess
import sys
import textwrap
from numbers import Integral, Real
from pathlib import Path

import nbformat
import pytest

from xlt_lib.codeswitch.config import CodeSwitchConfig
from xlt_lib.errors import ConfigError
from xlt_lib.experiment import load_experiment
from xlt_lib.experiment.notebook import transfer_inputs
from xlt_lib.significance import CORRECTIONS, SignificanceSettings
from xlt_lib.training.settings import TrainingSettings
from xlt_lib.validation import (
    NOTEBOOK,
    PYTHON,
    FieldError,
    Interval,
    ListOf,
    MappingOf,
    Nullable,
    Options,
    String,
    field_constraints,
    file_origin,
    validate,
)

REPO = Path(__file__).resolve().parents[2]

VALID = """\
name: t
model: offline-default
intermediate_tasks: [mnli]
conditions:
  base: {kind: none}
  mono: {kind: monolingual}
targets: [xnli]
seeds: [1, 2]
settings:
  profile: cpu
  max_train_examples: 100
"""


def error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "x.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert type(info.value) is ConfigError  # the command line logs it by this name
    return str(info.value)


# -- constraints -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (Interval(Real, 0, None, closed="neither"), "a positive number"),
        (Interval(Integral, 0, None, closed="neither"), "a positive integer"),
        (Interval(Integral, 1, None, closed="left"), "an integer >= 1"),
        (Interval(Real, 0.0, 1.0, closed="both"), "a number in [0.0, 1.0]"),
        (Interval(Real, 0.0, 1.0, closed="left"), "a number in [0.0, 1.0)"),
        (Interval(Real, None, 5, closed="neither"), "a number < 5"),
        (Interval(Real, None, None), "a number"),
        (Options("fp32", "bf16"), "one of fp32, bf16"),
        (Nullable(Interval(Integral, 0, None, closed="neither")), "a positive integer or null"),
        (ListOf(String()), "a non-empty list"),
    ],
)
def test_constraints_describe_themselves(rule: object, text: str) -> None:
    assert str(rule) == text


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, "inf", "nan", "-Infinity"])
def test_real_intervals_refuse_non_finite_values(bad: object) -> None:
    rule = Interval(Real, 0, None, closed="neither")
    with pytest.raises(ConfigError, match=r"^lr: expected a finite number, got"):
        validate(bad, rule, ("lr",))


def test_non_finite_values_pass_only_when_allowed() -> None:
    rule = Interval(Real, 0, None, closed="neither", finite=False)
    assert validate(math.inf, rule) == math.inf
    with pytest.raises(ConfigError, match="positive"):
        validate(-math.inf, rule)


@pytest.mark.parametrize(
    ("value", "closed", "ok"),
    [
        (0.0, "both", True),
        (0.0, "neither", False),
        (1.0, "left", False),
        (1.0, "right", True),
        (0.5, "neither", True),
    ],
)
def test_interval_ends_open_or_closed(value: float, closed: str, ok: bool) -> None:
    rule = Interval(Real, 0.0, 1.0, closed=closed)  # type: ignore[arg-type]
    if ok:
        assert validate(value, rule) == value
    else:
        with pytest.raises(ConfigError, match=r"expected a number in"):
            validate(value, rule)


def test_origin_decides_only_how_a_value_is_described() -> None:
    rule = Interval(Integral, 0, None, closed="left")
    with pytest.raises(ConfigError, match=r"^seed: expected an integer, got '3'$"):
        validate("3", rule, ("seed",), PYTHON)
    with pytest.raises(ConfigError, match=r"^notebook parameter: seed: expected an integer, got string '3'$"):
        validate("3", rule, ("seed",), NOTEBOOK)
    assert validate(3.0, rule, ("seed",), PYTHON) == 3  # papermill may hand an integral float
    with pytest.raises(ConfigError, match=r"^f\.yaml: seed: expected an integer, got number 3\.0$"):
        validate(3.0, rule, ("seed",), file_origin("f.yaml"))
    # YAML 1.1 (papermill) leaves 1e-5 a string; a YAML 1.2 experiment file never does.
    assert validate("1e-5", Interval(Real, 0, None, closed="neither"), ("lr",), NOTEBOOK) == 1e-5
    with pytest.raises(ConfigError, match="quoted or not a YAML number"):
        validate("1e-5", Interval(Real, 0, None, closed="neither"), ("lr",), file_origin("f.yaml"))


def test_options_suggest_the_closest_choice_in_either_style() -> None:
    rule = Options("holm", "bonferroni")
    with pytest.raises(
        ConfigError, match=r"^c: expected one of holm, bonferroni, got 'hlm' \(did you mean 'holm'\?\)$"
    ):
        validate("hlm", rule, ("c",))
    with pytest.raises(
        ConfigError, match=r"c: unknown value 'hlm' \(did you mean 'holm'\?\); expected one of: holm"
    ):
        validate("hlm", rule, ("c",), NOTEBOOK)


def test_nested_errors_name_the_item() -> None:
    with pytest.raises(
        ConfigError, match=r"^langs\[1\]: expected a string, got False — YAML reads no as false"
    ):
        validate(["de", False], ListOf(String()), ("langs",))
    with pytest.raises(ConfigError, match=r"^langs\[2\]: language 'de' is listed twice$"):
        validate(["de", "fr", "de"], ListOf(String(), noun="language"), ("langs",))
    with pytest.raises(ConfigError, match=r"^epochs\.xnli: expected a positive number, got 0\.0$"):
        validate({"xnli": 0}, MappingOf(String(), Interval(Real, 0, None, closed="neither")), ("epochs",))


# -- declared constraints -------------------------------------------------------------------------
def test_every_setting_declares_its_constraint() -> None:
    for cls in (TrainingSettings, CodeSwitchConfig, SignificanceSettings):
        names = {f for f in inspect.signature(cls).parameters}
        assert set(field_constraints(cls)) == names, cls.__name__


@pytest.mark.parametrize("name", ["learning_rate", "max_grad_norm", "weight_decay", "epochs", "warmup_ratio"])
@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, "inf", "nan"])
def test_float_settings_refuse_non_finite_values(name: str, bad: object) -> None:
    with pytest.raises(ConfigError, match=rf"^training\.{name}: expected a finite number"):
        TrainingSettings.from_dict({name: bad})
    with pytest.raises(ConfigError, match=rf"^{name}: expected a finite number"):
        TrainingSettings(**{name: bad})  # type: ignore[arg-type]


def test_direct_construction_is_checked_and_normalised() -> None:
    assert TrainingSettings(epochs=2).epochs == 2.0 and isinstance(TrainingSettings(epochs=2).epochs, float)
    with pytest.raises(FieldError, match=r"^token_ratio: expected a number in \[0\.0, 1\.0\], got 2\.0$"):
        CodeSwitchConfig(languages=("de",), token_ratio=2)
    with pytest.raises(ConfigError, match=r"^doc_stride: expected 1 to max_length-1 \(127\), got 200$"):
        TrainingSettings(doc_stride=200)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("learning_rate: .inf", "settings.learning_rate: expected a finite number, got inf (line 12)"),
        ("max_grad_norm: .nan", "settings.max_grad_norm: expected a finite number, got nan (line 12)"),
        ("weight_decay: -.inf", "settings.weight_decay: expected a finite number, got -inf (line 12)"),
        (
            "intermediate: {learning_rate: .inf}",
            "settings.intermediate.learning_rate: expected a finite number",
        ),
    ],
)
def test_experiment_file_refuses_non_finite_settings(tmp_path: Path, setting: str, message: str) -> None:
    # Before: `learning_rate: .inf` passed validation and crashed in the run hash (JSON has no inf).
    text = error_for(tmp_path, VALID + f"  {setting}\n")
    assert text.startswith(str(tmp_path / "x.yaml")) and message in text


def test_target_overrides_refuse_non_finite_settings(tmp_path: Path) -> None:
    text = error_for(
        tmp_path, VALID.replace("targets: [xnli]", "targets: [{task: xnli, learning_rate: .nan}]")
    )
    assert "targets[0].learning_rate: expected a finite number, got nan" in text


@pytest.mark.parametrize(
    ("significance", "message"),
    [
        ("{correction: hlm}", "significance.correction: unknown value 'hlm' (did you mean 'holm'?)"),
        ("{n_resamples: 10}", "significance.n_resamples: expected an integer >= 99, got 10"),
        ("{alpha: 1.5}", "significance.alpha: expected a number in (0.0, 0.5], got 1.5"),
        ("{alpha: .nan}", "significance.alpha: expected a finite number, got nan"),
        ("{seed: -1}", "significance.seed: expected an integer >= 0, got -1"),
        ("{n_resample: 10}", "significance.n_resample: unknown key (did you mean 'n_resamples'?)"),
    ],
)
def test_significance_keys_are_checked(tmp_path: Path, significance: str, message: str) -> None:
    assert message in error_for(tmp_path, VALID + f"significance: {significance}\n")


def test_slurm_keys_are_checked(tmp_path: Path) -> None:
    text = error_for(tmp_path, VALID + "executor: {slurm: {partition: gpu, mem_gb: .inf}}\n")
    assert "executor.slurm.mem_gb: expected a finite number, got inf" in text
    text = error_for(tmp_path, VALID + "executor: {slurm: {cpus_per_task: 0}}\n")
    assert "executor.slurm.cpus_per_task: expected an integer >= 1, got 0" in text


def test_notebook_parameters_refuse_non_finite_settings(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"^notebook parameter: settings\.learning_rate: expected a finite number"
    ):
        transfer_inputs(
            run_dir=tmp_path, encoder="x", target="xnli", settings={"learning_rate": "inf"}, seed=0
        )


# -- one default, read everywhere ----------------------------------------------------------------
def test_significance_defaults_are_the_ones_the_notebook_and_the_statistics_use() -> None:
    from xlt_lib.stats.example_table import compare_examples
    from xlt_lib.stats.multiple import CORRECTIONS as STATS_CORRECTIONS
    from xlt_lib.stats.notebook import check_parameters
    from xlt_lib.stats.seed_table import compare_conditions

    defaults = SignificanceSettings()
    notebook = nbformat.read(REPO / "notebooks" / "significance.ipynb", as_version=4)
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    namespace: dict[str, object] = {}
    exec(cell.source, namespace)  # the parameters cell holds literals only
    stats_defaults = inspect.signature(check_parameters).parameters
    for name in ("alpha", "correction", "n_resamples", "seed", "test", "per_seed"):
        expected = getattr(defaults, name)
        assert namespace[name] == expected, f"notebook {name}"
        assert stats_defaults[name].default == expected, f"check_parameters {name}"
    for function in (compare_conditions, compare_examples):
        assert inspect.signature(function).parameters["n_resamples"].default == defaults.n_resamples
    assert tuple(STATS_CORRECTIONS) == CORRECTIONS


def test_shipped_experiments_agree_with_the_rules() -> None:
    for path in sorted((REPO / "params").glob("*.yaml")):
        experiment = load_experiment(path)
        assert SignificanceSettings(**vars(experiment.significance)) == experiment.significance


# -- configuration stays light ---------------------------------------------------------------------
def test_configuration_modules_load_no_torch() -> None:
    code = (
        "import xlt_lib.experiment.config, xlt_lib.experiment.grid, xlt_lib.experiment.notebook, "
        "xlt_lib.validation, xlt_lib.significance; import sys; "
        "heavy = sorted({'torch', 'transformers', 'datasets'} & set(sys.modules)); "
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
