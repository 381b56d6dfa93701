"""Code-switching of English training data (CoSDA-ML, Qin et al. 2020).

`load_dictionaries` reads bilingual dictionaries, `CodeSwitchConfig` holds a
condition's settings, `CodeSwitcher` applies the procedure to canonical examples
of any task format (dynamic or static, reproducible per example id),
`SwitchedDataset` is the lazy per-epoch view training uses, and
`xlt_lib.codeswitch.diagnostics` measures coverage and switch rates.
"""

from xlt_lib.codeswitch.config import XNLI_TARGET_LANGUAGES, CodeSwitchConfig
from xlt_lib.codeswitch.dataset import SwitchedDataset
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
