"""Engines for the whole test suite come from the conformance kit's pytest plugin
(:mod:`expsql.testing.pytest_plugin`): DuckDB in-process, a throwaway PostgreSQL server, Spark in
local mode, a Spark Connect server, chdb. Each starts once per test session; an engine that cannot
start skips its tests with a reason saying how to enable it, except when ``CI=true``: there a
missing engine fails the run, so CI can never pass by skipping.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Test helpers (``tests.engines.exposures_daos``, ``tests.stats.frames``) import as ``tests.*``.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

pytest_plugins = ["expsql.testing.pytest_plugin"]
