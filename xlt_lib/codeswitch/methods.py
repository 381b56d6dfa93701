"""The code-switching method seam: a `Switcher` protocol and a registry of methods.

Training needs two things from a code-switching method (`xlt_lib.training.data`):
switch one example (a lazily switched dataset, the dynamic schedule) and switch a
whole dataset (the static schedule). A method is a factory that builds such a
switcher from the condition's `CodeSwitchConfig` and the data directory.
CoSDA-ML (`xlt_lib.codeswitch.switcher.CodeSwitcher`) is the first, and the
default: a config that does not name a ``method`` is CoSDA-ML and its run ids are
unchanged.

A method is named in the experiment file (``codeswitch: {method: ..., ...}``)
by its registered name, or as ``module:function`` for a factory in an importable
module of the user's project (the notebook kernel imports it; the name is part of
the run id, so give a changed method a new name).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from xlt_lib.codeswitch.config import DEFAULT_METHOD, CodeSwitchConfig
from xlt_lib.codeswitch.switcher import build_cosda_switcher
from xlt_lib.errors import ConfigError


class Switcher(Protocol):
    """What training asks of a code-switching method."""

    def switch_example(
        self, example: dict[str, Any], fields: Sequence[str], epoch: int = 0
    ) -> dict[str, Any]:
        """``example`` with its ``fields`` switched (deterministic given the config's seed, the example and epoch)."""
        ...

    def switch_dataset(self, ds: Any, fields: Sequence[str], epoch: int = 0) -> Any:
        """A `datasets.Dataset` like ``ds`` with ``fields`` switched in every row."""
        ...


SwitcherFactory = Callable[[CodeSwitchConfig, "str | os.PathLike[str] | None"], Switcher]

#: Registered methods by name; `register_method` adds one.
METHODS: dict[str, SwitcherFactory] = {DEFAULT_METHOD: build_cosda_switcher}


def register_method(name: str, factory: SwitcherFactory) -> None:
    """Make a code-switching method known by ``name`` (a registered name cannot be redefined)."""
    if name in METHODS and METHODS[name] is not factory:
        raise ConfigError(f"code-switching method {name!r} is already registered")
    METHODS[name] = factory


def method_factory(name: str) -> SwitcherFactory:
    """The factory of a registered method, or of ``module:function``; a `ConfigError` otherwise."""
    if name in METHODS:
        return METHODS[name]
    module, colon, function = name.partition(":")
    if not colon:
        raise ConfigError(
            f"unknown code-switching method {name!r}; registered: {', '.join(METHODS)} "
            "(or name a factory as 'module:function')"
        )
    try:
        factory = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"code-switching method {name!r}: cannot import it ({exc})") from None
    if not callable(factory):
        raise ConfigError(f"code-switching method {name!r}: {function} is not callable")
    return factory  # type: ignore[no-any-return]


def build_switcher(config: CodeSwitchConfig, data_dir: str | os.PathLike[str] | None = None) -> Switcher:
    """The switcher of ``config.method`` (CoSDA-ML by default), built for ``config``."""
    return method_factory(config.method)(config, data_dir)
