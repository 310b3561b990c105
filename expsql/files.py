"""Definition files: a YAML, TOML or JSON file read into a mapping, and pydantic's validation
errors as one line that names each key, for every model read from a file (experiments, sources,
configuration)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import yaml

from expsql.errors import ExperimentError


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that holds one key twice (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"found the key {key!r} twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise json.JSONDecodeError(f"found the key {twice[0]!r} twice", "", 0)
    return dict(pairs)


def read_mapping(path: str | Path, *, unique_keys: bool = False) -> dict[str, Any]:
    """Read a YAML, TOML or JSON file into a dict, chosen by the file's suffix.

    :param unique_keys: refuse a mapping that holds one key twice (TOML always does), where a
        name is the key (a catalog): YAML and JSON would silently keep the last.
    :raises ExperimentError: an unknown suffix, text that does not parse, or no mapping at the top.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.load(text, Loader=UniqueKeyLoader) if unique_keys else yaml.safe_load(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text, object_pairs_hook=_unique_pairs if unique_keys else None)
        else:
            raise ExperimentError(f"{path}: unknown file type {suffix!r} (use .yaml, .toml or .json)")
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ExperimentError(f"{path}: cannot read {suffix[1:].upper()}: {error}") from None
    if not isinstance(data, dict):
        raise ExperimentError(f"{path}: expected a mapping at the top level")
    return data
