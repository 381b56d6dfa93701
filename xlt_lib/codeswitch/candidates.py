"""Where the words of an induced dictionary may come from: only what a user may legitimately use.

Bilingual lexicon induction retrieves, for each English word, the nearest word
of a *candidate vocabulary* of the target language. The study is zero-shot: no
target-language text of any evaluation split may shape training, and an induced
dictionary shapes training through code-switching. So candidates come from
three sources only:

* ``dictionary``: the target side of an existing dictionary of the language (a
  set of words; its pairing is not used);
* ``tokenizer``: the encoder's vocabulary, whole-word pieces (``▁word``) written
  entirely in the language's script; a fallback for languages with neither a
  dictionary nor training text, and only for non-Latin scripts (`distinct_script`):
  for a Latin-script language it would mix in English, French, German ... words,
  which then win the retrieval;
* ``train-text``: words of the unlabelled text of TRAINING splits of registered
  tasks. `training_words` refuses any split that is not ``train`` or that a task
  evaluates or selects models on (`EvaluationSplitError`), whatever the caller
  asks for: that is the single gate every read of task text here goes through.

The English queries come from training splits through the same gate.
"""

from __future__ import annotations

import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from xlt_lib.codeswitch.dictionary import BilingualDictionary, normalise_key
from xlt_lib.codeswitch.text import find_units
from xlt_lib.errors import ConfigError, XltError
from xlt_lib.tasks.loading import load_split, resolve_source, split_languages
from xlt_lib.tasks.registry import all_tasks, get_task
from xlt_lib.tasks.spec import TaskSpec

CANDIDATE_SOURCES = ("dictionary", "tokenizer", "train-text")
#: The only split whose text induction may read.
TRAINING_SPLIT = "train"

_LATIN = "af az ca cs cy da de es et eu fi fr ga gl ha hr hu id is it lt lv ms mt nl no pl pt ro sk sl so sq sv sw tl tr uz vi xh yo zu"
#: The script of each language's words, as the first word of Unicode character names
#: (``"CJK"`` for CJK UNIFIED IDEOGRAPH ...). Languages not listed need another candidate source
#: than ``tokenizer``.
LANGUAGE_SCRIPTS: dict[str, tuple[str, ...]] = {
    **{lang: ("ARABIC",) for lang in ("ar", "fa", "ps", "ug", "ur")},
    **{lang: ("CYRILLIC",) for lang in ("be", "bg", "kk", "ky", "mk", "mn", "ru", "sr", "tt", "uk")},
    **{lang: ("DEVANAGARI",) for lang in ("hi", "mr", "ne", "sa")},
    **{lang: ("HEBREW",) for lang in ("he", "yi")},
    **{lang: ("LATIN",) for lang in _LATIN.split()},
    "am": ("ETHIOPIC",),
    "bn": ("BENGALI",),
    "el": ("GREEK",),
    "gu": ("GUJARATI",),
    "hy": ("ARMENIAN",),
    "ja": ("CJK", "HIRAGANA", "KATAKANA"),
    "ka": ("GEORGIAN",),
    "km": ("KHMER",),
    "kn": ("KANNADA",),
    "ko": ("HANGUL",),
    "lo": ("LAO",),
    "ml": ("MALAYALAM",),
    "my": ("MYANMAR",),
    "pa": ("GURMUKHI",),
    "si": ("SINHALA",),
    "ta": ("TAMIL",),
    "te": ("TELUGU",),
    "th": ("THAI",),
    "zh": ("CJK",),
}


class EvaluationSplitError(ConfigError):
    """Induction was asked to read a split that is not a training split (the study is zero-shot)."""


def check_training_split(task: TaskSpec, split: str) -> None:
    """Raise `EvaluationSplitError` unless ``split`` is ``train`` and the task neither evaluates nor selects on it."""
    evaluation = {task.eval_split, task.selection_split}
    if split != TRAINING_SPLIT or split in evaluation:
        raise EvaluationSplitError(
            f"task {task.name!r} split {split!r}: dictionary induction reads only the text of training "
            f"splits ({TRAINING_SPLIT!r}), never a split a task evaluates or selects models on "
            f"({', '.join(sorted(evaluation))}): the study's transfer is zero-shot"
        )


def words_of(texts: Iterable[str]) -> Counter[str]:
    """Word counts of running text, cut as the switcher cuts it (look-up form, lower case)."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(unit.key for unit in find_units(text))
    return counts


def training_words(
    task: str | TaskSpec,
    language: str = "en",
    split: str = TRAINING_SPLIT,
    data_dir: str | os.PathLike[str] | None = None,
) -> Counter[str]:
    """Word counts of the text fields of one task's training split in one language.

    The split passes `check_training_split` first: asking for ``dev`` or ``test``
    (or a split the task evaluates on) raises before any file is opened.
    """
    spec = get_task(task)
    check_training_split(spec, split)
    dataset = load_split(spec, split, language, data_dir=data_dir)
    texts: list[str] = []
    for name in spec.text_fields:
        for value in dataset[name]:
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, list):
                texts.extend(v for v in value if isinstance(v, str))
    return words_of(texts)


def target_training_words(language: str, data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Words of every registered task's local training split in ``language``, most frequent first.

    Only local files of the data directory are read (a hub read would be a
    download); tasks without a training split in the language give nothing.
    """
    counts: Counter[str] = Counter()
    for spec in all_tasks().values():
        if TRAINING_SPLIT not in spec.splits or language == "en":
            continue
        try:
            kind, _ = resolve_source(spec, TRAINING_SPLIT, language, "auto", data_dir)
            if kind != "local" or language not in split_languages(spec, TRAINING_SPLIT, data_dir):
                continue
            counts.update(training_words(spec, language, TRAINING_SPLIT, data_dir))
        except XltError:
            continue  # this task cannot be read here: it offers no words
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if is_word(w)]


def is_word(text: str) -> bool:
    """A single token of letters (an inner apostrophe or hyphen allowed), no digits."""
    stripped = text.replace("'", "").replace("-", "")
    return bool(stripped) and stripped.isalpha() and " " not in text


def in_script(word: str, scripts: Sequence[str]) -> bool:
    """Every letter of ``word`` belongs to one of ``scripts`` (Unicode name prefixes)."""
    letters = [ch for ch in word if ch.isalpha()]
    return bool(letters) and all(unicodedata.name(ch, "").startswith(tuple(scripts)) for ch in letters)


def dictionary_words(dictionary: BilingualDictionary, limit: int | None = None) -> list[str]:
    """The distinct single-word target side of a dictionary, in file order (frequent English first)."""
    out: dict[str, None] = {}
    for translations in dictionary.entries.values():
        for word in translations:
            if is_word(word):
                out.setdefault(word, None)
                if limit is not None and len(out) >= limit:
                    return list(out)
    return list(out)


def distinct_script(language: str) -> bool:
    """Is the language written in a known script other than Latin (so its tokenizer words are its own, mostly)?"""
    scripts = LANGUAGE_SCRIPTS.get(language)
    return scripts is not None and "LATIN" not in scripts


def tokenizer_words(tokenizer: object, language: str, min_chars: int = 2) -> list[str]:
    """Whole-word pieces (``▁word``) of a SentencePiece tokenizer written in the language's script."""
    scripts = LANGUAGE_SCRIPTS.get(language)
    if scripts is None:
        raise ConfigError(
            f"no script known for language {language!r}: tokenizer candidates need one "
            f"(known: {', '.join(sorted(LANGUAGE_SCRIPTS))}); use another candidate source"
        )
    vocab = tokenizer.get_vocab()  # type: ignore[attr-defined]
    out = []
    for piece in sorted(vocab, key=vocab.__getitem__):  # piece id order: frequent pieces first
        if not piece.startswith("\u2581"):
            continue
        word = unicodedata.normalize("NFC", piece[1:])
        if len(word) >= min_chars and is_word(word) and in_script(word, scripts):
            out.append(word)
    return list(dict.fromkeys(out))


def english_queries(
    tasks: Sequence[str], data_dir: str | os.PathLike[str] | None = None, limit: int | None = None
) -> list[str]:
    """The English words to translate: words of the training splits of ``tasks``, most frequent first."""
    counts: Counter[str] = Counter()
    for task in tasks:
        counts.update(training_words(task, "en", TRAINING_SPLIT, data_dir))
    words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if is_word(w)]
    return words[:limit] if limit is not None else words


def merge(*sources: Iterable[str], exclude: Iterable[str] = (), limit: int | None = None) -> list[str]:
    """Distinct words of several sources in order (first source first), without ``exclude``."""
    skip = {normalise_key(w) for w in exclude}
    out: dict[str, None] = {}
    for source in sources:
        for word in source:
            if word not in out and normalise_key(word) not in skip:
                out[word] = None
                if limit is not None and len(out) >= limit:
                    return list(out)
    return list(out)
