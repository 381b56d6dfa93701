"""Code-switching of English training data (CoSDA-ML, Qin et al. 2020).

`load_dictionaries` reads bilingual dictionaries, `CodeSwitchConfig` holds a
condition's settings, `CodeSwitcher` applies the procedure to canonical examples
of any task format (dynamic or static, reproducible per example id),
`SwitchedDataset` is the lazy per-epoch view training uses, and
`xlt_lib.codeswitch.diagnostics` measures coverage and switch rates.

`SwitchedDataset` (a torch dataset) is imported on first use, so that validating a
configuration (`xlt_lib.codeswitch.config`, `.dictionary`) never loads torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlt_lib.codeswitch.config import XNLI_TARGET_LANGUAGES, CodeSwitchConfig
from xlt_lib.codeswitch.dictionary import (
    BilingualDictionary,
    default_dictionary_path,
    load_dictionaries,
    load_dictionary,
)
from xlt_lib.codeswitch.switcher import (
    AnalysedCorpus,
    CodeSwitcher,
    SwitchDecisions,
    build_switcher,
    resolve_fields,
)

if TYPE_CHECKING:
    from xlt_lib.codeswitch.dataset import SwitchedDataset

__all__ = [
    "XNLI_TARGET_LANGUAGES",
    "AnalysedCorpus",
    "BilingualDictionary",
    "CodeSwitchConfig",
    "CodeSwitcher",
    "SwitchDecisions",
    "SwitchedDataset",
    "build_switcher",
    "default_dictionary_path",
    "load_dictionaries",
    "load_dictionary",
    "resolve_fields",
]


def __getattr__(name: str) -> Any:
    if name == "SwitchedDataset":
        from xlt_lib.codeswitch.dataset import SwitchedDataset

        return SwitchedDataset
    raise AttributeError(f"module 'xlt_lib.codeswitch' has no attribute {name!r}")
