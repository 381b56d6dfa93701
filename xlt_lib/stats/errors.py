"""Errors of significance testing that a user can act on.

They subclass `xlt_lib.errors.XltError`, so the command line and the notebooks
show them as one line naming what is missing or mismatched, never a traceback.
"""

from __future__ import annotations

from xlt_lib.errors import XltError


class StatsError(XltError):
    """A significance test cannot be run on the data it was given."""


class PairingError(StatsError):
    """Two runs cannot be paired example by example (or seed by seed).

    Raised when example ids are duplicated, present in one run only, or carry
    different gold labels, and when seeds cannot be matched between conditions.
    """


class MissingRunsError(StatsError):
    """The runs a comparison needs are absent from the experiment's results."""
