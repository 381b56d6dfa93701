"""The format registry and what each format decides: columns, heads, selection, prediction decoding."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from xlt_lib.errors import ConfigError, DataError
from xlt_lib.tasks import FORMATS, TASKS, get_format, get_task
from xlt_lib.tasks.formats import REGISTRY


def test_every_task_has_a_registered_format_that_names_its_columns() -> None:
    assert tuple(REGISTRY) == FORMATS == ("classification", "multiple_choice", "extractive_qa", "tagging")
    for spec in TASKS.values():
        task_format = get_format(spec.format)
        assert task_format.name == spec.format
        assert spec.columns == task_format.columns(spec)
        assert set(task_format.columns(spec)) <= set(task_format.canonical_columns)
    assert "text_b" not in get_task("sst2").columns and "text_b" in get_task("mnli").columns


def test_an_unknown_format_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"task format 'ranking': unknown .*classification"):
        get_format("ranking")


def test_importing_the_task_layer_loads_no_torch() -> None:
    """Validating an experiment file imports the task registry and its formats; that must stay light."""
    code = (
        "import sys, xlt_lib.tasks, xlt_lib.tasks.formats; "
        "print(sorted({'torch', 'transformers', 'datasets', 'numpy'} & set(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "head", "first_position", "label_names", "selection"),
    [
        ("classification", "AutoModelForSequenceClassification", True, ("labels",), "accuracy"),
        ("multiple_choice", "AutoModelForMultipleChoice", True, ("labels",), "accuracy"),
        ("extractive_qa", "AutoModelForQuestionAnswering", False, ("start_positions", "end_positions"), "f1"),
        ("tagging", "AutoModelForTokenClassification", False, ("labels",), "accuracy"),
    ],
)
def test_each_format_names_its_head_gold_keys_and_selection_metric(
    name: str, head: str, first_position: bool, label_names: tuple[str, ...], selection: str
) -> None:
    task_format = get_format(name)
    assert task_format.head_class().__name__ == head
    assert task_format.first_position_only is first_position
    assert task_format.label_names == label_names
    assert task_format.selection_metric == selection


def test_primary_score_puts_every_format_on_a_0_to_1_scale() -> None:
    assert get_format("classification").primary_score({"accuracy": 0.75, "macro_f1": 0.5}) == 0.75
    assert get_format("extractive_qa").primary_score({"f1": 62.0, "exact_match": 50.0}) == pytest.approx(0.62)


def test_head_config_gives_label_maps_only_to_heads_with_one_output_per_label() -> None:
    labels = ("entailment", "neutral", "contradiction")
    config = get_format("classification").head_config(labels)
    assert config["num_labels"] == 3 and config["id2label"][2] == "contradiction"
    assert get_format("tagging").head_config(labels)["label2id"]["neutral"] == 1
    assert get_format("multiple_choice").head_config(labels) == {}
    assert get_format("classification").head_config(None) == {}


def test_canonical_fields_map_labels_check_choices_and_tags() -> None:
    mnli, cosmos, ccg = get_task("mnli"), get_task("cosmosqa"), get_task("ccg")
    row = get_format("classification").canonical_fields(mnli, {"label": "neutral"}, mnli.labels, "f: line 3")
    assert row["label"] == mnli.labels.index("neutral")
    with pytest.raises(DataError, match=r"task 'mnli': f: line 3: unknown label 'maybe'"):
        get_format("classification").canonical_fields(mnli, {"label": "maybe"}, mnli.labels, "f: line 3")
    with pytest.raises(DataError, match="expected 4 choices, found 2"):
        get_format("multiple_choice").canonical_fields(
            cosmos, {"label": 1, "choices": ["a", "b"]}, cosmos.labels, "f: row 1"
        )
    tags = get_format("tagging").canonical_fields(ccg, {"tags": ["N", "zz"]}, ("N", "<unk>"), "f: 1")
    assert tags["tags"] == [0, 1]
    with pytest.raises(DataError, match="unknown tag 'zz'"):
        get_format("tagging").canonical_fields(ccg, {"tags": ["N", "zz"]}, ("N",), "f: 1")


def test_classification_scores_argmax_predictions_as_int64_labels() -> None:
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
    examples = {"label": [0, 1, 1, 0]}
    scored = get_format("classification").score(logits, examples, None, get_task("xnli"))
    assert list(scored.prediction) == [0, 1, 2, 0] and scored.prediction.dtype == np.int64
    assert scored.gold.dtype == np.int64
    assert scored.metrics["accuracy"] == 0.75 and scored.metrics["n"] == 4
    assert set(scored.metrics) == {*get_format("classification").summary_metrics, "n"}


def test_extractive_qa_decodes_the_best_span_and_scores_it_against_every_gold_answer() -> None:
    examples = [
        {"id": "q1", "context": "Paris is in France"},
        {"id": "q2", "context": "It rains"},
    ]
    answers = [{"text": ["France"], "answer_start": [12]}, {"text": ["snow", "hail"], "answer_start": [0, 0]}]

    class Examples(list):
        def __getitem__(self, key):  # rows by index, columns by name, like a datasets.Dataset
            return answers if key == "answers" else super().__getitem__(key)

    windows = {
        "example_id": ["q1", "q2"],
        "offset_mapping": [[None, (0, 5), (6, 8), (9, 11), (12, 18)], [None, (0, 2), (3, 8), None, None]],
    }
    start = np.array([[0, 0, 0, 0, 9.0], [0, 0, 9.0, 0, 0]])
    end = np.array([[0, 0, 0, 0, 9.0], [0, 0, 9.0, 0, 0]])
    scored = get_format("extractive_qa").score(
        (start, end), Examples(examples), windows, get_task("tydiqa_en")
    )
    assert scored.prediction == ["France", "rains"]
    assert scored.gold == [["France"], ["snow", "hail"]]
    assert scored.metrics == {"exact_match": 50.0, "f1": 50.0, "n": 2}


def test_tagging_scores_first_subword_positions_only() -> None:
    windows = {"labels": [[-100, 1, -100, 0, -100], [-100, 2, -100]]}
    logits = np.full((2, 5, 3), -100.0)  # the Trainer pads shorter rows' logits with -100
    logits[0, :5] = [[9, 0, 0], [0, 9, 0], [9, 0, 0], [0, 0, 9], [9, 0, 0]]
    logits[1, :3] = [[9, 0, 0], [0, 0, 9], [9, 0, 0]]
    scored = get_format("tagging").score(logits, None, windows, get_task("ccg"))
    assert scored.gold == [[1, 0], [2]] and scored.prediction == [[1, 2], [2]]
    assert scored.metrics == {"accuracy": pytest.approx(2 / 3), "n": 2}
