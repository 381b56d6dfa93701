"""Reading experiment YAML so that every value can be traced to its line and its text.

PyYAML follows YAML 1.1, which has traps for exactly the values experiment files
hold: ``1e-5`` (no dot) is a *string*, ``042`` is octal 34, ``1_000`` is 1000, and
``no``/``yes``/``on``/``off`` are booleans, so the language list ``[en, de, no]``
silently becomes ``['en', 'de', False]``. This loader:

* resolves numbers the YAML 1.2 core way (``1e-5`` is a float, ``042`` is 42),
  so what a researcher writes means what it looks like;
* keeps YAML 1.1's booleans (every other YAML tool, papermill's ``-f`` included,
  reads ``no`` as false, and a file should mean the same everywhere) but records
  the text each value came from, so validation can say "YAML reads no as false;
  quote it";
* rejects duplicate mapping keys, which PyYAML otherwise resolves silently by
  keeping the last one;
* records each value's line for error messages.

Composing the node tree and converting it by hand is the only way PyYAML offers
to keep the source text of a scalar after resolution; that is why this walker
exists instead of a plain ``yaml.safe_load``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xlt_lib.errors import ConfigError
from xlt_lib.validation import KeyPath, dotted

# YAML 1.2 core schema: https://yaml.org/spec/1.2.2/#1032-tag-resolution
_FLOAT_12 = re.compile(
    r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$"
)
_INT_12 = re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")
_BOOL_11 = re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class _Loader(yaml.SafeLoader):
    """A safe loader whose implicit resolvers follow YAML 1.2 for numbers."""


# Replace PyYAML's 1.1 int/float/bool resolvers; keep null, timestamps are left as strings.
_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_11, list("yYnNtTfFoO"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_12, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


@dataclass
class YamlDocument:
    """A parsed YAML document with the line and source text of every value."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)
    sources: dict[KeyPath, str] = field(default_factory=dict)

    def line(self, key: KeyPath) -> int | None:
        """1-based line of the value at ``key`` (or of its nearest enclosing value)."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get(())

    def source(self, key: KeyPath) -> str | None:
        """The scalar text as written (``no`` for a value read as ``False``)."""
        return self.sources.get(key)


def _scalar(loader: _Loader, node: yaml.ScalarNode) -> Any:
    tag = node.tag
    value = node.value
    if tag == "tag:yaml.org,2002:int":
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value)
    if tag == "tag:yaml.org,2002:float":
        lowered = value.lower().lstrip("+")
        if lowered in (".inf", "-.inf"):
            return float(lowered.replace(".", ""))
        if lowered == ".nan":
            return float("nan")
        return float(value)
    return loader.construct_object(node, deep=True)


_PLAIN_TAGS = {
    yaml.MappingNode: {"tag:yaml.org,2002:map"},
    yaml.SequenceNode: {"tag:yaml.org,2002:seq"},
    yaml.ScalarNode: {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")},
}


def _walk(loader: _Loader, node: yaml.Node, key: KeyPath, doc: YamlDocument, path: Path) -> Any:
    doc.lines[key] = node.start_mark.line + 1
    if node.tag not in _PLAIN_TAGS[type(node)]:
        raise ConfigError(
            f"{path}:{node.start_mark.line + 1}: {dotted(key) or '<top>'}: not valid YAML for an experiment: "
            f"tag {node.tag!r} is not allowed (only plain mappings, lists, strings, numbers, booleans, null)"
        )
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # expands `<<: *anchor` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            name = _scalar(loader, key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(name, str | int | float | bool) or isinstance(name, bool):
                line = key_node.start_mark.line + 1
                raise ConfigError(
                    f"{path}:{line}: {dotted(key) or '<top>'}: mapping keys must be plain names, "
                    f"got {key_node.value!r}"
                    + (" (YAML reads it as a boolean; quote it)" if isinstance(name, bool) else "")
                )
            name = str(name)
            if name in result:
                line = key_node.start_mark.line + 1
                raise ConfigError(f"{path}:{line}: {dotted((*key, name))}: duplicate key (given twice)")
            result[name] = _walk(loader, value_node, (*key, name), doc, path)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, (*key, i), doc, path) for i, item in enumerate(node.value)]
    doc.sources[key] = node.value
    return _scalar(loader, node)


def plain(value: Any) -> Any:
    """A deep copy made of dicts, lists and scalars (for canonical JSON and YAML dumps)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def parse_yaml(text: str, path: Path) -> YamlDocument:
    """Parse one YAML document from ``text``; ``path`` only names it in errors."""
    loader = _Loader(text)
    doc = YamlDocument(path=path, data=None)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _walk(loader, node, (), doc, path)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return doc


def load_yaml(path: str | os.PathLike[str]) -> YamlDocument:
    """Read a YAML file with YAML 1.2 numbers, duplicate-key checks and source tracking."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such experiment file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_yaml(text, path)
