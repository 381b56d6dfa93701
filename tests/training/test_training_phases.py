"""Phase 2 and phase 3 end to end on a tiny encoder and a handful of real rows.

Covers every head format, encoder transfer between phases, determinism, resuming
an interrupted run, and the non-finite-loss guard.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from transformers import TrainerCallback

from xlt_lib.errors import TrainingError
from xlt_lib.model.referenced import load_state_dict
from xlt_lib.training import TrainingSettings, run_intermediate, run_transfer

TINY = {
    "learning_rate": 1e-3,
    "batch_size": 4,
    "max_length": 64,
    "max_train_examples": 16,
    "max_dev_examples": 8,
    "max_eval_examples": 6,
    "eval_interval": 2,
    "warmup_ratio": 0.0,
    "freeze_word_embeddings": True,  # keeps optimizer state and checkpoints small
}


def _settings(**overrides: Any) -> TrainingSettings:
    return TrainingSettings.from_dict({**TINY, **overrides})


def _timeless(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics without wall-clock figures, which differ between identical runs."""
    out = json.loads(json.dumps(metrics))
    out["train"] = {k: v for k, v in out["train"].items() if k not in ("train_seconds", "examples_per_s")}
    out.pop("eval", None)
    return out


@pytest.mark.parametrize(
    ("task", "metric"),
    [("mnli", "accuracy"), ("cosmosqa", "accuracy"), ("tydiqa_en", "f1"), ("ccg", "accuracy")],
)
def test_intermediate_trains_every_head_format_and_saves_the_encoder_only(
    task: str,
    metric: str,
    tiny_model_dir: Path,
    data_dir: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    # CCG has no public copy: its files live in a folder of their own (a fixture here)
    source = request.getfixturevalue("ccg_dir") if task == "ccg" else data_dir
    settings = _settings(max_train_examples=8, max_length=96 if task == "tydiqa_en" else 64)
    result = run_intermediate(
        str(tiny_model_dir), task, settings, output_dir=tmp_path / "run", data_dir=source
    )

    assert result.encoder_dir == tmp_path / "run" / "encoder"
    tensors = load_state_dict(result.encoder_dir)  # stored and referenced (frozen) tensors alike
    assert any(name.endswith("word_embeddings.weight") for name in tensors)
    assert not any(part in name for name in tensors for part in ("classifier", "qa_outputs"))
    record = json.loads((result.encoder_dir / "xlt_encoder.json").read_text())
    assert (
        record["task"] == task and record["seed"] == 0 and record["steps"] == result.metrics["train"]["steps"]
    )
    assert record["settings"] == settings.to_dict() and record["parent_model"]["path"] == str(tiny_model_dir)
    assert (result.encoder_dir / "tokenizer.json").is_file()
    assert metric in result.metrics["dev"] and result.metrics["dev"]["n"] > 0
    assert result.metrics["train"]["examples_seen"] >= result.metrics["train"]["examples"] > 0
    assert not (tmp_path / "run" / "checkpoints").exists(), "checkpoints must be deleted after success"


class _CaptureEncoder(TrainerCallback):
    """Keeps a copy of the encoder's weights as the Trainer receives them."""

    def __init__(self) -> None:
        self.weights: dict[str, torch.Tensor] = {}

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        self.weights = {k: v.detach().clone() for k, v in model.base_model.state_dict().items()}


def test_transfer_starts_from_the_saved_encoder_and_reports_every_language(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    phase2 = run_intermediate(
        str(tiny_model_dir), "mnli", _settings(), output_dir=tmp_path / "p2", data_dir=data_dir
    )
    capture = _CaptureEncoder()
    result = run_transfer(
        str(phase2.encoder_dir),
        "xnli",
        _settings(),
        output_dir=tmp_path / "p3",
        data_dir=data_dir,
        callbacks=[capture],
    )

    saved = load_state_dict(phase2.encoder_dir)
    assert set(capture.weights) == set(saved)
    for name, tensor in saved.items():
        assert torch.equal(capture.weights[name], tensor), name

    metrics = result.metrics
    assert metrics["phase"] == "transfer" and metrics["target"] == "xnli" and metrics["eval_split"] == "test"
    assert len(metrics["per_language"]) == 15
    for scores in metrics["per_language"].values():
        assert set(scores) == {"accuracy", "macro_f1", "n"} and scores["n"] == 6
    assert metrics["encoder"]["intermediate_task"] == "mnli"
    assert metrics["train"]["train_task"] == "mnli" and metrics["train"]["selected_step"] >= 2
    predictions = result.predictions
    assert list(predictions.columns) == ["id", "language", "gold", "prediction"]
    assert len(predictions) == 15 * 6 and predictions["prediction"].dtype == "int64"
    # the same items in every language, so runs and languages pair up example by example
    ids = predictions.groupby("language")["id"].apply(tuple)
    assert ids.nunique() == 1
    en = predictions[predictions["language"] == "en"]
    assert metrics["per_language"]["en"]["accuracy"] == pytest.approx((en["gold"] == en["prediction"]).mean())
    # a tiny model on 6 English rows cannot beat the majority class: the record says it did not learn
    learning = metrics["learning"]
    assert learning["learned"] is False and learning["reasons"] and learning["judged_on"] == "en"
    assert learning["n"] == 6 and learning["accuracy"] == pytest.approx(
        metrics["per_language"]["en"]["accuracy"]
    )
    assert phase2.metrics["learning"]["learned"] is False
    assert 0 < phase2.metrics["dev"]["majority_rate"] <= 1


def test_same_seed_same_results_and_resume_matches_an_uninterrupted_run(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    settings = _settings(epochs=2, max_train_examples=20)  # 5 steps per epoch, checkpoints every 2

    def run(out: Path, callbacks: list[TrainerCallback] | None = None) -> Any:
        return run_transfer(
            str(tiny_model_dir),
            "pawsx",
            settings,
            output_dir=out,
            data_dir=data_dir,
            callbacks=callbacks or [],
        )

    first, second = run(tmp_path / "a"), run(tmp_path / "b")
    assert _timeless(first.metrics) == _timeless(second.metrics)
    pd.testing.assert_frame_equal(first.predictions, second.predictions)

    class Interrupt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == 7:  # in the second epoch, after the checkpoint of step 6
                raise KeyboardInterrupt("simulated interruption")

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "c", [Interrupt()])
    assert (tmp_path / "c" / "checkpoints" / "checkpoint-6").is_dir()
    resumed = run(tmp_path / "c")
    assert resumed.metrics["train"]["resumed_from"].endswith("checkpoint-6")
    expected, got = _timeless(first.metrics), _timeless(resumed.metrics)
    expected["train"].pop("resumed_from"), got["train"].pop("resumed_from")
    assert got == expected
    pd.testing.assert_frame_equal(first.predictions, resumed.predictions)


def test_resume_refuses_checkpoints_of_other_settings(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    class Interrupt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == 3:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_intermediate(
            str(tiny_model_dir),
            "mnli",
            _settings(),
            output_dir=tmp_path,
            data_dir=data_dir,
            callbacks=[Interrupt()],
        )
    with pytest.raises(TrainingError, match="checkpoints of a different run"):
        run_intermediate(
            str(tiny_model_dir), "mnli", _settings(seed=1), output_dir=tmp_path, data_dir=data_dir
        )


def test_non_finite_loss_stops_the_run_naming_step_and_learning_rate(
    tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    class PoisonWeights(TrainerCallback):
        """Makes the forward pass produce inf from step 3 on (the learning rate has decayed to 5e-4)."""

        def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            if state.global_step == 2:
                with torch.no_grad():
                    model.classifier.bias.fill_(float("inf"))

    with pytest.raises(
        TrainingError, match=r"non-finite training loss .* at step 3 with learning rate 0\.0005"
    ):
        run_intermediate(
            str(tiny_model_dir),
            "mnli",
            _settings(),
            output_dir=tmp_path,
            data_dir=data_dir,
            callbacks=[PoisonWeights()],
        )


def test_unsupported_precision_is_a_clear_error(tiny_model_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("fp16 is supported on this machine")
    with pytest.raises(TrainingError, match="precision=fp16: needs a CUDA GPU"):
        run_intermediate(
            str(tiny_model_dir), "mnli", _settings(precision="fp16"), output_dir=tmp_path, data_dir=data_dir
        )


@pytest.mark.parametrize("schedule", ["dynamic", "static"])
def test_code_switched_training_switches_per_epoch_or_once(
    schedule: str, tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    from xlt_lib.codeswitch import CodeSwitchConfig, SwitchedDataset

    class SeeEpochs(TrainerCallback):
        """Records the training set's epoch and its first item at every epoch start."""

        def __init__(self) -> None:
            self.seen: list[tuple[int | None, list[int]]] = []

        def on_epoch_begin(
            self, args: Any, state: Any, control: Any, train_dataloader: Any = None, **kw: Any
        ):
            dataset = train_dataloader.dataset
            epoch = dataset.epoch if isinstance(dataset, SwitchedDataset) else None
            self.seen.append((epoch, list(dataset[0]["input_ids"])))

    config = CodeSwitchConfig(languages=("de", "fr"), token_ratio=0.9, schedule=schedule)
    seen = SeeEpochs()
    result = run_intermediate(
        str(tiny_model_dir),
        "mnli",
        _settings(epochs=2, max_train_examples=8),
        codeswitch=config,
        output_dir=tmp_path,
        data_dir=data_dir,
        callbacks=[seen],
    )
    record = json.loads((result.encoder_dir / "xlt_encoder.json").read_text())
    assert record["codeswitch"] == config.to_dict() == result.metrics["train"]["codeswitch"]
    (epoch0, item0), (epoch1, item1) = seen.seen
    if schedule == "dynamic":
        assert (epoch0, epoch1) == (0, 1) and item0 != item1  # re-switched for the second epoch
    else:
        assert (epoch0, epoch1) == (None, None) and item0 == item1  # switched once, kept


@pytest.mark.parametrize(
    ("task", "cls_only_setting", "expected"),
    [("mnli", True, True), ("mnli", False, False), ("tydiqa_en", True, False)],
)
def test_trainer_computes_the_last_layer_for_cls_only_where_the_head_reads_nothing_else(
    task: str, cls_only_setting: bool, expected: bool, tiny_model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    from xlt_lib.tasks import get_task
    from xlt_lib.training.cls_only import has_cls_only_last_layer
    from xlt_lib.training.phases import build_trainer

    spec = get_task(task)
    prepared = build_trainer(
        phase="intermediate",
        encoder=str(tiny_model_dir),
        head_task=spec,
        train_task=spec,
        settings=_settings(cls_only_last_layer=cls_only_setting),
        codeswitch=None,
        output_dir=tmp_path,
        data_dir=data_dir,
        callbacks=[],
    )
    assert has_cls_only_last_layer(prepared.trainer.model) is expected
