"""Installed-looking distributions for the fixture plugins of this directory.

:func:`write_distribution` writes a ``*.dist-info`` directory (``METADATA`` and
``entry_points.txt``), exactly what ``pip install`` leaves behind; with its directory on
``sys.path`` (or read through :func:`entry_points_of`) the registry sees real
``importlib.metadata.EntryPoint`` objects whose ``dist`` names the package.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from expsql.dialects.registry import ENTRY_POINT_GROUP

#: Put this directory on ``sys.path`` so the entry points' modules import.
PLUGINS = Path(__file__).resolve().parent


def write_distribution(root: Path, name: str, entry_points: dict[str, str]) -> Path:
    """An installed-looking distribution ``name`` in ``root`` with entry points of group ``expsql``."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{key} = {value}" for key, value in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return info


def entry_points_of(root: Path) -> list[importlib.metadata.EntryPoint]:
    """The ``expsql`` entry points of every distribution in ``root``, in a stable order."""
    found = importlib.metadata.distributions(path=[str(root)])
    distributions = sorted(found, key=lambda dist: dist.metadata["Name"])
    return [ep for dist in distributions for ep in dist.entry_points.select(group=ENTRY_POINT_GROUP)]
