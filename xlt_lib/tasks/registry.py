"""The task registry: one `TaskSpec` per task, the single place that knows a task.

Targets are XNLI and PAWS-X (XTREME sentence-pair classification); the English
intermediate tasks follow Phang et al. (2020), plus SNLI, SQuAD 2.0 and an
offline English extractive-QA task built from English TyDiQA-GoldP.

Hub ids and schemas are those of the namespaced Hugging Face datasets
(``facebook/xnli``, ``nyu-mll/glue``, ...); local paths are those of the offline
mirror described in ``shared/data/README.md``.
"""

from __future__ import annotations

import difflib

from xlt_lib.errors import ConfigError
from xlt_lib.tasks.spec import Carve, HubSource, LocalSource, LocalSplit, TaskSpec

NLI_LABELS = ("entailment", "neutral", "contradiction")
XNLI_LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
PAWSX_LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "zh")
EN = ("en",)
PAIR_FIELDS = ("text_a", "text_b")
MC_FIELDS = ("context", "question", "choices")
QA_FIELDS = ("question", "context")

#: Environment variable naming the folder with CCGbank-derived ``{train,dev,test}.tsv``.
CCG_DIR_ENV = "XLT_CCG_DIR"


def _glue_json(task_dir: str) -> LocalSource:
    return LocalSource(
        splits={
            "train": LocalSplit(f"{task_dir}/train.json", "indexed_json_pairs"),
            "dev": LocalSplit(f"{task_dir}/dev.json", "indexed_json_pairs"),
        }
    )


_TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="xnli",
        format="classification",
        description="XNLI: cross-lingual NLI, 15 languages; trained on English MNLI (XTREME).",
        labels=NLI_LABELS,
        text_fields=PAIR_FIELDS,
        languages=XNLI_LANGUAGES,
        splits=("dev", "test"),
        train_task="mnli",
        eval_split="test",
        hub=HubSource(
            "facebook/xnli", "{language}", {"dev": ("validation",), "test": ("test",)}, "premise_hypothesis"
        ),
        local=LocalSource(
            splits={
                "dev": LocalSplit("xnli/dev-{language}.tsv", "tsv_pairs"),
                "test": LocalSplit("xnli/test-{language}.tsv", "tsv_pairs"),
            }
        ),
        notes=("Row i of every language file is the same item: ids are xnli-<split>-<row:05d>.",),
    ),
    TaskSpec(
        name="pawsx",
        format="classification",
        description="PAWS-X: cross-lingual paraphrase identification, 7 languages; trained on English PAWS-X.",
        labels=("not_paraphrase", "paraphrase"),
        text_fields=PAIR_FIELDS,
        languages=PAWSX_LANGUAGES,
        splits=("train", "dev", "test"),
        train_task="pawsx",
        eval_split="dev",
        hub=HubSource(
            "google-research-datasets/paws-x",
            "{language}",
            {"train": ("train",), "dev": ("validation",), "test": ("test",)},
            "sentence_pair",
        ),
        local=LocalSource(
            splits={
                "train": LocalSplit("pawsx/train-en.tsv", "tsv_pairs_header", languages=EN),
                "dev": LocalSplit("pawsx/dev-{language}.tsv", "tsv_pairs"),
                "test": LocalSplit("pawsx/test-{language}.tsv", "tsv_pairs_id_header"),
            }
        ),
        notes=(
            "Offline, test labels exist only for English: zero-shot transfer is scored on dev (eval_split). "
            "Labelled test-<language>.tsv files added to the data directory are evaluated with "
            "`eval_split: test` (and `languages: [...]`).",
            "Test ids are the files' own `id` column, so an item pairs across languages however rows are ordered.",
            "Offline train-en.tsv is a PAWS-Wiki stand-in (11,997 pairs) for the 49,401-pair PAWS-X train set.",
        ),
    ),
    TaskSpec(
        name="mnli",
        format="classification",
        description="MultiNLI (GLUE); dev is the matched validation set. Rows without a gold label are dropped.",
        labels=NLI_LABELS,
        text_fields=PAIR_FIELDS,
        languages=EN,
        splits=("train", "dev"),
        hub=HubSource(
            "nyu-mll/glue",
            "mnli",
            {"train": ("train",), "dev": ("validation_matched",)},
            "premise_hypothesis",
        ),
        local=_glue_json("glue/mnli"),
    ),
    TaskSpec(
        name="anli",
        format="classification",
        description="Adversarial NLI, rounds 1-3 concatenated per split.",
        labels=NLI_LABELS,
        text_fields=PAIR_FIELDS,
        languages=EN,
        splits=("train", "dev", "test"),
        hub=HubSource(
            "facebook/anli",
            None,
            {
                "train": ("train_r1", "train_r2", "train_r3"),
                "dev": ("dev_r1", "dev_r2", "dev_r3"),
                "test": ("test_r1", "test_r2", "test_r3"),
            },
            "premise_hypothesis",
        ),
    ),
    TaskSpec(
        name="qqp",
        format="classification",
        description="Quora Question Pairs (GLUE).",
        labels=("not_duplicate", "duplicate"),
        text_fields=PAIR_FIELDS,
        languages=EN,
        splits=("train", "dev"),
        hub=HubSource("nyu-mll/glue", "qqp", {"train": ("train",), "dev": ("validation",)}, "question_pair"),
        local=_glue_json("glue/qqp"),
    ),
    TaskSpec(
        name="sst2",
        format="classification",
        description="SST-2 sentiment (GLUE), single sentences.",
        labels=("negative", "positive"),
        text_fields=("text_a",),
        languages=EN,
        splits=("train", "dev", "test"),
        hub=HubSource(
            "nyu-mll/glue", "sst2", {"train": ("train",), "dev": ("validation",)}, "single_sentence"
        ),
        local=LocalSource(
            splits={
                "train": LocalSplit("glue/sst2/train.tsv", "tsv_sentence_header"),
                "dev": LocalSplit("glue/sst2/dev.tsv", "tsv_sentence_header"),
                "test": LocalSplit("glue/sst2/test.tsv", "tsv_sentence_header"),
            }
        ),
        notes=("Offline: train+dev together are GLUE train and test is the labelled GLUE dev set.",),
    ),
    TaskSpec(
        name="snli",
        format="classification",
        description="Stanford NLI. Rows without a gold label (-1) are dropped.",
        labels=NLI_LABELS,
        text_fields=PAIR_FIELDS,
        languages=EN,
        splits=("train", "dev", "test"),
        hub=HubSource(
            "stanfordnlp/snli",
            None,
            {"train": ("train",), "dev": ("validation",), "test": ("test",)},
            "premise_hypothesis",
        ),
        local=LocalSource(
            splits={
                "train": LocalSplit("snli/train.json", "indexed_json_pairs"),
                "dev": LocalSplit("snli/dev.json", "indexed_json_pairs"),
            }
        ),
    ),
    TaskSpec(
        name="hellaswag",
        format="multiple_choice",
        description="HellaSwag sentence completion: context = ctx, four endings.",
        labels=("0", "1", "2", "3"),
        text_fields=MC_FIELDS,
        languages=EN,
        splits=("train", "dev"),
        num_choices=4,
        hub=HubSource("Rowan/hellaswag", None, {"train": ("train",), "dev": ("validation",)}, "hellaswag"),
        local=LocalSource(
            splits={
                "train": LocalSplit("hellaswag/validation.jsonl", "hellaswag_jsonl", carve=Carve("train")),
                "dev": LocalSplit("hellaswag/validation.jsonl", "hellaswag_jsonl", carve=Carve("dev")),
            }
        ),
        notes=(
            "Offline only the validation split exists: it is carved into train (90%) and dev (10%) "
            "by SHA-256 of the example's `ind` (see Carve).",
        ),
    ),
    TaskSpec(
        name="commonsenseqa",
        format="multiple_choice",
        description="CommonsenseQA: question with five answer choices, no context.",
        labels=("A", "B", "C", "D", "E"),
        text_fields=MC_FIELDS,
        languages=EN,
        splits=("train", "dev"),
        num_choices=5,
        hub=HubSource(
            "tau/commonsense_qa", None, {"train": ("train",), "dev": ("validation",)}, "commonsenseqa"
        ),
    ),
    TaskSpec(
        name="cosmosqa",
        format="multiple_choice",
        description="Cosmos QA: commonsense reading comprehension, four answer choices.",
        labels=("0", "1", "2", "3"),
        text_fields=MC_FIELDS,
        languages=EN,
        splits=("train", "dev"),
        num_choices=4,
        hub=HubSource("allenai/cosmos_qa", None, {"train": ("train",), "dev": ("validation",)}, "cosmosqa"),
        local=LocalSource(
            splits={
                "train": LocalSplit("cosmosqa/valid.csv", "cosmosqa_csv", carve=Carve("train")),
                "dev": LocalSplit("cosmosqa/valid.csv", "cosmosqa_csv", carve=Carve("dev")),
            }
        ),
        notes=(
            "Offline only the validation split exists: it is carved into train (90%) and dev (10%) "
            "by SHA-256 of the example's `id` (see Carve).",
        ),
    ),
    TaskSpec(
        name="squad",
        format="extractive_qa",
        description="SQuAD v1.1 extractive QA.",
        labels=(),
        text_fields=QA_FIELDS,
        languages=EN,
        splits=("train", "dev"),
        hub=HubSource("rajpurkar/squad", None, {"train": ("train",), "dev": ("validation",)}, "squad"),
    ),
    TaskSpec(
        name="squad_v2",
        format="extractive_qa",
        description="SQuAD 2.0 extractive QA; unanswerable questions have empty answer lists.",
        labels=(),
        text_fields=QA_FIELDS,
        languages=EN,
        splits=("train", "dev"),
        hub=HubSource("rajpurkar/squad_v2", None, {"train": ("train",), "dev": ("validation",)}, "squad"),
    ),
    TaskSpec(
        name="tydiqa_en",
        format="extractive_qa",
        description="English TyDiQA-GoldP (SQuAD v1.1 format): the extractive QA task available offline.",
        labels=(),
        text_fields=QA_FIELDS,
        languages=EN,
        splits=("train", "dev"),
        hub=HubSource(
            "google-research-datasets/tydiqa",
            "secondary_task",
            {"train": ("train",), "dev": ("validation",)},
            "tydiqa_english",
        ),
        local=LocalSource(
            splits={
                "train": LocalSplit("qa/tydiqa-goldp-en-train.json", "squad_json", carve=Carve("train")),
                "dev": LocalSplit("qa/tydiqa-goldp-en-train.json", "squad_json", carve=Carve("dev")),
            }
        ),
        notes=(
            "The offline TyDiQA English dev file has its answers blanked, so offline train and dev are "
            "carved from the labelled train file (90/10 by SHA-256 of the question id). From the hub, "
            "dev is the English part of the GoldP validation split.",
        ),
    ),
    TaskSpec(
        name="ccg",
        format="tagging",
        description="CCG supertagging (CCGbank-derived files given by the user; no public copy).",
        labels=(),
        text_fields=("tokens",),
        languages=EN,
        splits=("train", "dev", "test"),
        labels_from_train=True,
        local=LocalSource(
            splits={
                "train": LocalSplit("train.tsv", "word_tag_tsv"),
                "dev": LocalSplit("dev.tsv", "word_tag_tsv"),
                "test": LocalSplit("test.tsv", "word_tag_tsv"),
            },
            root_env=CCG_DIR_ENV,
        ),
        notes=(
            f"Files: ${CCG_DIR_ENV}/{{train,dev,test}}.tsv, one `word<TAB>supertag` per line, a blank "
            "line between sentences. The tag set is the sorted set of tags in train.tsv plus `<unk>` "
            "for tags seen only in dev/test (never predicted, so scored as errors).",
        ),
    ),
)

TASKS: dict[str, TaskSpec] = {task.name: task for task in _TASKS}

#: Tasks defined outside xlt_lib (task files named by an experiment), registered at run time.
_USER_TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Make a user-defined task known by name (`get_task`, `task_names`), like a built-in one.

    Registering the same spec twice is a no-op; a built-in name, or another spec
    under a registered name, is a `ConfigError` (two files must not define one task
    two ways within one process).
    """
    if spec.name in TASKS:
        raise ConfigError(f"task {spec.name!r} is built in; give the user-defined task another name")
    known = _USER_TASKS.get(spec.name)
    if known is not None and known != spec:
        raise ConfigError(f"task {spec.name!r} is already defined differently (by another task file)")
    _USER_TASKS[spec.name] = spec
    return spec


def unregister_task(name: str) -> None:
    """Forget a user-defined task (tests, and tools that load several experiments)."""
    _USER_TASKS.pop(name, None)


def is_user_task(name: str) -> bool:
    """Whether ``name`` is a registered user-defined task (its spec then enters run ids)."""
    return name in _USER_TASKS


def all_tasks() -> dict[str, TaskSpec]:
    """Every known task by name: the built-in ones, then the registered user-defined ones."""
    return {**TASKS, **_USER_TASKS}


def task_names() -> tuple[str, ...]:
    """Names of all known tasks: the registry's, in order, then user-defined ones."""
    return tuple(all_tasks())


def get_task(name: str | TaskSpec) -> TaskSpec:
    """The spec of task ``name``; a `ConfigError` lists the valid names for a typo."""
    if isinstance(name, TaskSpec):
        return name
    tasks = all_tasks()
    try:
        return tasks[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), tasks, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown task {name!r}{hint}; valid tasks: {', '.join(tasks)}") from None


def check_language(task: TaskSpec, language: str) -> str:
    """Return ``language`` if ``task`` has it, else raise a `ConfigError` listing the valid ones."""
    if language not in task.languages:
        raise ConfigError(
            f"task {task.name!r} has no language {language!r}; valid languages: {', '.join(task.languages)}"
        )
    return language


def check_split(task: TaskSpec, split: str) -> str:
    """Return ``split`` if ``task`` has it, else raise a `ConfigError` listing the valid ones."""
    if split not in task.splits:
        raise ConfigError(
            f"task {task.name!r} has no split {split!r}; valid splits: {', '.join(task.splits)}"
        )
    return split
