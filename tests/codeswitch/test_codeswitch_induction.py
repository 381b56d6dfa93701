"""Dictionary induction from the encoder (issue 18): candidate sources, the zero-shot gate,
building into the cache, configuration, preflight and provenance.

Encoders here are either a fake with known answers (a translation embeds where its
English word does) or the tiny random model (for the command's plumbing); never the
real one.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml

from xlt_lib.cli import main
from xlt_lib.codeswitch import CodeSwitchConfig, build_switcher, diagnostics
from xlt_lib.codeswitch import candidates as cands
from xlt_lib.codeswitch.induced_store import (
    induced_dictionary_path,
    induced_meta_path,
    read_meta,
    write_induced,
)
from xlt_lib.codeswitch.induction import InductionSettings, build_induced, candidate_set
from xlt_lib.codeswitch.sources import dictionary_source
from xlt_lib.errors import ConfigError, DictionaryError
from xlt_lib.experiment import load_experiment, plan
from xlt_lib.experiment.notebook import intermediate_inputs, start_run
from xlt_lib.experiment.preflight import PreflightError
from xlt_lib.experiment.provenance import ProvenanceCache, check_run
from xlt_lib.tasks.registry import get_task

GOLD = {"house": "haus", "water": "wasser", "dog": "hund", "green": "grün", "night": "nacht"}
MUSE_DE = {**GOLD, "the": "der", "is": "ist", "cat": "katze", "a": "ein"}
MNLI = [
    ("The house is green at night.", "A dog drinks water."),
    ("The dog sleeps in the house.", "Night water."),
    ("Green water, green house.", "The dog."),
]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private xlt cache: induced dictionaries are written there, never in the project cache."""
    path = tmp_path / "cache"
    monkeypatch.setenv("XLT_CACHE_DIR", str(path))
    return path


@pytest.fixture
def data(tmp_path: Path, data_dir: Path) -> Path:
    """A data directory: three MNLI training pairs, a small German MUSE dictionary, English PAWS-X rows."""
    root = tmp_path / "data"
    (root / "pawsx").mkdir(parents=True)
    for name in ("train-en.tsv", "dev-en.tsv", "test-en.tsv"):
        (root / "pawsx" / name).write_text("".join((data_dir / "pawsx" / name).open().readlines()[:5]))
    (root / "glue/mnli").mkdir(parents=True)
    rows = {str(i): {"text_a": a, "text_b": b, "label": "neutral"} for i, (a, b) in enumerate(MNLI)}
    (root / "glue/mnli/train.json").write_text(json.dumps(rows), encoding="utf-8")
    (root / "glue/mnli/dev.json").write_text(json.dumps({"0": rows["0"]}), encoding="utf-8")
    (root / "dictionaries/muse").mkdir(parents=True)
    lines = [f"{en} {de}" for en, de in MUSE_DE.items()]
    (root / "dictionaries/muse/en-de.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def known_embedder(pairs: dict[str, str]) -> Callable[[Sequence[str]], np.ndarray]:
    """Words -> vectors where each German translation embeds exactly where its English word does."""
    english_of = {de: en for en, de in pairs.items()}

    def vector(word: str) -> np.ndarray:
        seed = zlib.crc32(english_of.get(word, word).encode("utf-8"))
        return np.random.default_rng(seed).normal(size=32).astype(np.float32)

    def embed(words: Sequence[str]) -> np.ndarray:
        return np.stack([vector(w) for w in words])

    return embed


# -- the zero-shot gate ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("task", "split"), [("xnli", "test"), ("xnli", "dev"), ("mnli", "dev"), ("pawsx", "dev")]
)
def test_evaluation_splits_are_refused_before_any_read(
    task: str, split: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("an evaluation split was read")

    monkeypatch.setattr(cands, "load_split", no_read)
    with pytest.raises(cands.EvaluationSplitError, match="zero-shot"):
        cands.training_words(task, "de" if task == "xnli" else "en", split)
    with pytest.raises(cands.EvaluationSplitError):
        cands.check_training_split(get_task(task), split)


def test_a_task_evaluated_on_its_train_split_is_refused_too() -> None:
    import dataclasses

    odd = dataclasses.replace(get_task("mnli"), eval_split="train")
    with pytest.raises(cands.EvaluationSplitError):
        cands.check_training_split(odd, "train")
    cands.check_training_split(get_task("mnli"), "train")  # the ordinary case passes


def test_induction_reads_only_training_splits(
    data: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[tuple[str, str, str]] = []
    original = cands.load_split

    def spy(task: object, split: str, language: str = "en", **kwargs: object) -> object:
        read.append((getattr(task, "name", task), split, language))  # type: ignore[arg-type]
        return original(task, split, language, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cands, "load_split", spy)
    build_induced(["de"], InductionSettings(), data, embed=known_embedder(MUSE_DE), log=lambda _: None)
    assert read and {split for _, split, _ in read} == {"train"}
    # train-text candidates for German were looked for: no task reads xnli (no train split) at all.
    assert all(name != "xnli" for name, _, _ in read)


# -- candidate vocabularies ------------------------------------------------------------------
class FakeTokenizer:
    def get_vocab(self) -> dict[str, int]:
        words = ["▁дом", "▁вода", "дом", "▁house", "▁д", "▁123", "▁вода2", "▁дом"]
        return {w: i for i, w in enumerate(dict.fromkeys(words))}


def test_tokenizer_candidates_are_whole_words_in_the_script() -> None:
    assert cands.tokenizer_words(FakeTokenizer(), "ru") == ["дом", "вода"]
    assert cands.distinct_script("ru") and cands.distinct_script("ur") and not cands.distinct_script("sw")
    with pytest.raises(ConfigError, match="no script known"):
        cands.tokenizer_words(FakeTokenizer(), "xx")


def test_tokenizer_words_are_a_fallback_for_languages_without_dictionary_or_text(data: Path) -> None:
    settings = InductionSettings()
    fallback = candidate_set("ru", settings, ["house"], FakeTokenizer(), data)
    assert fallback.words == ["дом", "вода"] and fallback.counts["tokenizer"] == 2
    (data / "dictionaries/muse/en-ru.txt").write_text("house дом\nhouse здание\n", encoding="utf-8")
    own = candidate_set("ru", settings, ["house"], FakeTokenizer(), data)
    assert own.words == ["дом", "здание"] and "tokenizer" not in own.counts
    with pytest.raises(DictionaryError, match="no candidate words"):
        candidate_set("sw", settings, ["house"], FakeTokenizer(), data)  # Latin script: no fallback


def test_candidate_words_and_merging() -> None:
    from xlt_lib.codeswitch.dictionary import BilingualDictionary

    d = BilingualDictionary.from_pairs("de", [("a", "ein"), ("b", "zwei drei"), ("c", "x1"), ("d", "ein")])
    assert cands.dictionary_words(d) == ["ein"]
    assert cands.merge(["a", "b"], ["b", "c"], exclude=["A"]) == ["b", "c"]
    assert cands.merge(["a", "b", "c"], limit=2) == ["a", "b"]
    assert cands.in_script("grün", ("LATIN",)) and not cands.in_script("дом", ("LATIN",))


# -- building, caching ---------------------------------------------------------------------------
def test_known_embeddings_are_induced_exactly_and_written_atomically_to_the_cache(
    data: Path, cache: Path
) -> None:
    settings = InductionSettings(threshold=-10.0, candidate_sources=("dictionary",))
    paths = build_induced(["de"], settings, data, embed=known_embedder(MUSE_DE), log=lambda _: None)
    assert paths == {"de": cache / "dictionaries/induced/en-de.txt"} == {"de": induced_dictionary_path("de")}
    lines = paths["de"].read_text(encoding="utf-8").splitlines()
    induced = dict(line.split("\t") for line in lines)
    assert {en: induced[en] for en in GOLD} == GOLD
    meta = read_meta("de")
    assert meta is not None and meta["settings"]["candidate_sources"] == ["dictionary"]
    assert meta["check"]["precision_at"]["1"] == 1.0 and meta["check"]["precision"] == 1.0
    assert meta["pairs"] == len(lines) and meta["queries"] >= len(GOLD)
    assert not list(paths["de"].parent.glob(".*.tmp")), "no temporary file left behind"


def test_the_threshold_filters_the_dictionary_but_every_score_is_kept(cache: Path) -> None:
    scored = [("house", "haus", 0.5), ("dog", "katze", -0.2), ("night", "nacht", 0.1)]
    path = write_induced("de", scored, 0.0, {"note": "test"})
    assert path.read_text(encoding="utf-8") == "house\thaus\nnight\tnacht\n"
    scores = (cache / "dictionaries/induced/en-de.scores.tsv").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[0] for line in scores] == ["house", "night", "dog"]
    assert json.loads(induced_meta_path("de").read_text())["threshold"] == 0.0


def test_the_command_builds_with_the_tiny_model_then_skips_until_forced(
    data: Path, cache: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "codeswitch",
        "induce",
        "--languages",
        "de",
        "--model",
        str(tiny_model_dir),
        "--data-dir",
        str(data),
    ]
    assert main(args) == 0
    path = induced_dictionary_path("de")
    assert path.is_file() and read_meta("de")["model_identity"]["name"] == str(tiny_model_dir)  # type: ignore[index]
    first = path.stat().st_mtime_ns
    assert main(args) == 0
    assert "already built" in capsys.readouterr().out and path.stat().st_mtime_ns == first
    assert main([*args, "--threshold", "-5"]) == 0, "other settings rebuild"
    assert read_meta("de")["threshold"] == -5  # type: ignore[index]
    assert main([*args, "--threshold", "-5", "--force"]) == 0
    assert "already built" not in capsys.readouterr().out.split("induction: ")[-1]
    assert (
        main(
            [
                "codeswitch",
                "dictionaries",
                "--languages",
                "de",
                "--source",
                "induced",
                "--data-dir",
                str(data),
            ]
        )
        == 0
    )
    assert "induced" in capsys.readouterr().out


# -- configuration ---------------------------------------------------------------------------------
def test_configs_without_the_key_serialise_as_before() -> None:
    """The run id hashes ``to_dict``: a config that does not use induced dictionaries is unchanged."""
    assert CodeSwitchConfig(languages=("de",)).to_dict() == {
        "languages": ["de"], "sentence_ratio": 1.0, "token_ratio": 0.4, "mode": "per_word",
        "schedule": "dynamic", "seed": 42, "fields": None, "dictionaries": None,
    }  # fmt: skip
    named = CodeSwitchConfig(languages=("de",), dictionaries={"de": "x.txt"})
    assert named.to_dict()["dictionaries"] == {"de": "x.txt"}


@pytest.mark.parametrize(
    ("value", "choices"),
    [
        ("induced", {"de": "induced", "sw": "induced"}),
        ("muse+induced", {"de": "muse+induced", "sw": "muse+induced"}),
        ({"sw": "induced"}, {"de": None, "sw": "induced"}),
        ({"de": "my.txt", "sw": "induced"}, {"de": "my.txt", "sw": "induced"}),
        ("default+induced", {"de": "default+induced", "sw": "default+induced"}),
        ({"sw": "default+induced"}, {"de": None, "sw": "default+induced"}),
    ],
)
def test_dictionaries_may_name_induced_for_all_or_per_language(value: object, choices: dict) -> None:
    cfg = CodeSwitchConfig.from_dict(
        yaml.safe_load(yaml.safe_dump({"languages": ["de", "sw"], "dictionaries": value}))
    )
    assert {lang: cfg.dictionary_choice(lang) for lang in cfg.languages} == choices
    assert CodeSwitchConfig.from_dict(yaml.safe_load(yaml.safe_dump(cfg.to_dict()))) == cfg


@pytest.mark.parametrize("value", ["induce", 3, ["induced"]])
def test_a_wrong_dictionaries_value_names_the_key(value: object) -> None:
    with pytest.raises(ConfigError, match=r"codeswitch\.dictionaries"):
        CodeSwitchConfig.from_dict({"languages": ["de"], "dictionaries": value})


def test_sources_resolve_muse_else_induced(data: Path, cache: Path) -> None:
    assert dictionary_source("de", "muse+induced", data).kind == "muse"
    sw = dictionary_source("sw", "muse+induced", data)
    assert (sw.kind, sw.path) == ("induced", induced_dictionary_path("sw"))
    assert sw.problem is not None and "xlt codeswitch induce --languages sw" in sw.problem
    with pytest.raises(DictionaryError, match="not built yet"):
        sw.require()
    write_induced("sw", [("house", "nyumba", 1.0)], 0.0, {})
    assert dictionary_source("sw", "muse+induced", data).problem is None


def test_default_plus_induced_fills_the_default_and_falls_back_to_induced_alone(
    data: Path, cache: Path
) -> None:
    (data / "dictionaries/extra").mkdir(parents=True)
    (data / "dictionaries/extra/en-sw.txt").write_text("house\tnyumba\n", encoding="utf-8")
    sw = dictionary_source("sw", "default+induced", data)
    assert (sw.kind, sw.path, sw.induced) == ("extra+induced", data / "dictionaries/extra/en-sw.txt", True)
    assert sw.fill is not None and sw.fill.path == induced_dictionary_path("sw")
    assert sw.problem is None and "xlt codeswitch induce --languages sw" in (sw.first_problem() or "")
    with pytest.raises(DictionaryError, match="not built yet"):
        sw.required_files()
    assert dictionary_source("de", "default+induced", data).kind == "muse+induced"
    alone = dictionary_source("ur", "default+induced", data)  # no default dictionary for ur here
    assert (alone.kind, alone.fill) == ("induced", None)

    write_induced("sw", [("house", "kibanda", 1.0), ("dog", "mbwa", 0.5)], 0.0, {})
    built = dictionary_source("sw", "default+induced", data)
    assert built.required_files() == (data / "dictionaries/extra/en-sw.txt", induced_dictionary_path("sw"))
    cfg = CodeSwitchConfig(languages=("de", "sw"), dictionaries={"sw": "default+induced"}, token_ratio=1.0)
    filled = build_switcher(cfg, data).dictionaries["sw"]  # type: ignore[attr-defined]
    assert filled.lookup("house") == ("nyumba",), "the list keeps its words; induction fills the others"
    assert filled.lookup("dog") == ("mbwa",)
    assert filled.source == "extra+induced" and len(filled) == 2


def test_training_reads_the_induced_dictionary_and_diagnostics_name_the_source(
    data: Path, cache: Path
) -> None:
    write_induced("sw", [("house", "nyumba", 1.0), ("dog", "mbwa", 0.5)], 0.0, {})
    cfg = CodeSwitchConfig(languages=("de", "sw"), dictionaries="muse+induced", token_ratio=1.0)
    switcher = build_switcher(cfg, data)
    assert switcher.dictionaries["sw"].lookup("house") == ("nyumba",)  # type: ignore[attr-defined]
    import datasets

    ds = datasets.Dataset.from_dict({"id": ["a"], "text_a": ["The house and the dog."]})
    corpus = switcher.analyse(ds, ["text_a"])  # type: ignore[attr-defined]
    table = diagnostics.coverage(corpus).set_index("language")
    assert table.loc["sw", "source"] == "induced" and table.loc["de", "source"] == "muse"
    assert table.loc["sw", "token_coverage"] == pytest.approx(2 / 5)


# -- preflight and provenance --------------------------------------------------------------------
EXPERIMENT = """\
name: ind
model: {model}
data_dir: {data}
intermediate_tasks: [mnli]
conditions:
  cs: {{kind: codeswitched, codeswitch: {{languages: [de, sw], dictionaries: muse+induced}}}}
targets: [{{task: pawsx, eval_split: test, languages: [en]}}]
seeds: [0]
settings: {{profile: cpu, max_train_examples: 8}}
"""


def test_preflight_names_an_unbuilt_induced_dictionary_and_the_command(
    data: Path, cache: Path, tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    path = tmp_path / "ind.yaml"
    path.write_text(EXPERIMENT.format(model=tiny_model_dir, data=data))
    preflight = plan(load_experiment(path)).preflight
    assert [(r.what, r.where) for r in preflight.missing] == [
        ("dictionary sw (induced)", str(induced_dictionary_path("sw")))
    ]
    with pytest.raises(PreflightError, match=r"not built yet: run `xlt codeswitch induce --languages sw`"):
        preflight.raise_for_missing()
    write_induced("sw", [("house", "nyumba", 1.0)], 0.0, {})
    assert not plan(load_experiment(path)).preflight.missing


def _start_switched_run(run_dir: Path, model: Path, data: Path, codeswitch: dict) -> dict:
    """Start (record the provenance of) a phase-2 run code-switched as ``codeswitch`` says; its env.json."""
    inputs = intermediate_inputs(
        run_dir=run_dir,
        model=str(model),
        task="mnli",
        codeswitch=codeswitch,
        settings={"profile": "cpu"},
        seed=0,
        data_dir=str(data),
    )
    return start_run(inputs)


def test_an_induced_dictionary_enters_provenance_and_a_rebuild_makes_the_run_stale(
    data: Path, cache: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    write_induced("sw", [("house", "nyumba", 1.0)], 0.0, {})
    run_dir = tmp_path / "run"
    env = _start_switched_run(
        run_dir, tiny_model_dir, data, {"languages": ["de", "sw"], "dictionaries": "muse+induced"}
    )
    induced = str(induced_dictionary_path("sw").resolve())
    assert induced in env["data"] and str((data / "dictionaries/muse/en-de.txt").resolve()) in env["data"]
    assert not check_run(run_dir, str(tiny_model_dir), ProvenanceCache(), str(data)).stale
    write_induced("sw", [("house", "nyumba", 1.0), ("dog", "mbwa", 1.0)], 0.0, {})
    stale = check_run(run_dir, str(tiny_model_dir), ProvenanceCache(), str(data)).stale
    assert any("en-sw.txt changed" in reason for reason in stale)


def test_both_files_of_a_filled_dictionary_enter_provenance(
    data: Path, cache: Path, tmp_path: Path, tiny_model_dir: Path
) -> None:
    (data / "dictionaries/extra").mkdir(parents=True)
    listed = data / "dictionaries/extra/en-sw.txt"
    listed.write_text("house\tnyumba\n", encoding="utf-8")
    write_induced("sw", [("dog", "mbwa", 1.0)], 0.0, {})
    run_dir = tmp_path / "run"
    env = _start_switched_run(
        run_dir, tiny_model_dir, data, {"languages": ["sw"], "dictionaries": "default+induced"}
    )
    assert (
        str(listed.resolve()) in env["data"] and str(induced_dictionary_path("sw").resolve()) in env["data"]
    )
    listed.write_text("house\tnyumba\ncat\tpaka\n", encoding="utf-8")
    stale = check_run(run_dir, str(tiny_model_dir), ProvenanceCache(), str(data)).stale
    assert any("en-sw.txt changed" in reason for reason in stale)


def test_the_params_example_uses_induced_dictionaries_by_configuration_alone(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLT_RUNS_DIR", str(tmp_path / "runs"))
    experiment = load_experiment(Path(__file__).resolve().parents[2] / "params/induced-dictionaries.yaml")
    reads = {r.what: r for r in plan(experiment).preflight.all_reads() if r.kind == "dictionary"}
    assert reads["dictionary sw (induced)"].where == str(induced_dictionary_path("sw"))
    assert reads["dictionary ur (induced)"].problem and "dictionary de" in reads
    assert reads["dictionary sw"].where.endswith("extra/en-sw.txt"), "muse-lists keeps the small list"
    filled = reads["dictionary sw (extra+induced)"].where
    assert filled.endswith(f"extra/en-sw.txt + {induced_dictionary_path('sw')}"), "muse-filled reads both"
