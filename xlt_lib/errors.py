"""Errors a user can act on.

Every problem caused by input (an experiment file, a data file, a dictionary, a
model folder, a run directory) raises an `XltError` subclass whose message names
the file, key or row and says what was expected. The command line prints such
errors as one line without a traceback (the traceback goes to a log file), so
anything that is *not* an `XltError` is, by construction, a bug in xlt.
"""

from __future__ import annotations


class XltError(Exception):
    """Base class for errors caused by the user's input or environment."""


class ConfigError(XltError):
    """An experiment file or a setting is invalid."""


class DataError(XltError):
    """A data file is missing, malformed or inconsistent with its task."""


class DictionaryError(XltError):
    """A bilingual dictionary is missing or malformed."""


class ModelError(XltError):
    """A model folder is missing, incomplete or inconsistent."""


class RunRecordError(XltError):
    """A run directory is foreign, incomplete or has been tampered with."""


class TrainingError(XltError):
    """Training cannot go on (for example, a non-finite loss)."""


class StorageError(XltError):
    """A file cannot be written: read-only or full file system, no permission (names the file)."""


class KernelStartError(XltError):
    """A run's Jupyter kernel never answered, on every attempt (`xlt_lib.experiment.runner`)."""
