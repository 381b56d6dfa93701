"""The study's three kinds of condition, named once for every layer.

An experiment's conditions are labelled freely by the user (``baseline``, ``cs-0.4`` …); what
the code reasons about is their *kind*: no intermediate training, monolingual (English as is)
intermediate training, or code-switched intermediate training. The configuration schema, the
run records, the statistics and the reports all read the kinds, their order and their display
labels from here, so that a table, a plot legend and a sentence never spell a kind differently.
"""

from __future__ import annotations

from typing import Literal

ConditionKind = Literal["none", "monolingual", "codeswitched"]

#: The kinds in report order: the baseline first, the treatment of interest last.
CONDITION_KINDS: tuple[ConditionKind, ...] = ("none", "monolingual", "codeswitched")

#: How a kind is written in tables, legends and sentences.
KIND_LABELS: dict[str, str] = {
    "none": "no intermediate training",
    "monolingual": "monolingual",
    "codeswitched": "code-switched",
}
