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


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML, TOML or JSON file into a dict, chosen by the file's suffix.

    :raises ExperimentError: an unknown suffix, text that does not parse, or no mapping at the top.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ExperimentError(f"{path}: unknown file type {suffix!r} (use .yaml, .toml or .json)")
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ExperimentError(f"{path}: cannot read {suffix[1:].upper()}: {error}") from None
    if not isinstance(data, dict):
        raise ExperimentError(f"{path}: expected a mapping at the top level")
    return data
