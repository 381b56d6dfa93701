"""Code-switching of English training data (CoSDA-ML, Qin et al. 2020).

`load_dictionaries` reads bilingual dictionaries, `dictionary_sources` says which
file each language of a config reads (MUSE, a named file, or a dictionary induced
from the encoder by `xlt_lib.codeswitch.induction`), `CodeSwitchConfig` holds a
condition's settings, `CodeSwitcher` applies the procedure to canonical examples
of any task format (dynamic or static, reproducible per example id),
`SwitchedDataset` is the lazy per-epoch view training uses, and
`xlt_lib.codeswitch.diagnostics` measures coverage and switch rates.

`SwitchedDataset` is a `torch.utils.data.Dataset`, so it is imported on first use
(PEP 562): validating an experiment file imports `xlt_lib.codeswitch.config`, which
runs this file, and must not load torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from xlt_lib.codeswitch.config import XNLI_TARGET_LANGUAGES, CodeSwitchConfig
from xlt_lib.codeswitch.dictionary import (
    BilingualDictionary,
    default_dictionary_path,
    load_dictionaries,
    load_dictionary,
)
from xlt_lib.codeswitch.methods import METHODS, Switcher, build_switcher, register_method
from xlt_lib.codeswitch.sources import DictionarySource, dictionary_sources, load_configured_dictionaries
from xlt_lib.codeswitch.switcher import (
    AnalysedCorpus,
    CodeSwitcher,
    SwitchDecisions,
    build_cosda_switcher,
    resolve_fields,
)

if TYPE_CHECKING:
    from xlt_lib.codeswitch.dataset import SwitchedDataset

__all__ = [
    "METHODS",
    "XNLI_TARGET_LANGUAGES",
    "AnalysedCorpus",
    "BilingualDictionary",
    "CodeSwitchConfig",
    "CodeSwitcher",
    "DictionarySource",
    "SwitchDecisions",
    "SwitchedDataset",
    "Switcher",
    "build_cosda_switcher",
    "build_switcher",
    "default_dictionary_path",
    "dictionary_sources",
    "load_configured_dictionaries",
    "load_dictionaries",
    "load_dictionary",
    "register_method",
    "resolve_fields",
]

if TYPE_CHECKING:
    from xlt_lib.codeswitch.dataset import SwitchedDataset


def __getattr__(name: str) -> Any:
    if name != "SwitchedDataset":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = importlib.import_module(f"{__name__}.dataset").SwitchedDataset
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"SwitchedDataset"})
