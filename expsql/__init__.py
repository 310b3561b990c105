"""expsql — evaluate A/B tests where the data lives.

The pipeline, one stage per subpackage:

- :mod:`expsql.grammar`  — the metric language: ``metric.lark``, text → AST (:func:`parse_expression`)
- :mod:`expsql.compiler` — AST → plan → one sqlglot tree (:func:`compile_sql`)
- :mod:`expsql.dialects` — pluggy-registered warehouses that render and run the tree
- :mod:`expsql.stats`    — rows → scorecard (:func:`evaluate`), planning (:func:`sample_size`)

Models shared by the library, the CLI and the REST API: :class:`Experiment`, :class:`Metric`,
:class:`Check` and :class:`Source`; the metric catalog experiments name metrics from:
:class:`Catalog` (:func:`load_catalog`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from expsql.catalog import Catalog, load_catalog
from expsql.errors import (
    ConnectorError,
    DialectError,
    ExperimentError,
    ExpressionError,
    ExpsqlError,
    RowsError,
    TimelineError,
)
from expsql.grammar.ast import BinaryOp, Dimension, Goal, GoalKey, Negate, Number
from expsql.grammar.parse import parse_expression
from expsql.models import Check, Experiment, Metric, load_experiment
from expsql.source import Columns, Source, load_source
from expsql.version import __version__

if TYPE_CHECKING:
    from expsql.compiler import compile_sql, compile_tree
    from expsql.server import serve
    from expsql.stats import Evaluation, evaluate, minimum_detectable_effect, sample_size

#: Public names whose modules are imported on first use: the CLI starts fast, and
#: ``import expsql`` never pulls in scipy, sqlglot or FastAPI before they are needed.
_LAZY = {
    "compile_sql": "expsql.compiler",
    "compile_tree": "expsql.compiler",
    "serve": "expsql.server",
    "Evaluation": "expsql.stats",
    "evaluate": "expsql.stats",
    "minimum_detectable_effect": "expsql.stats",
    "sample_size": "expsql.stats",
}


__all__ = [
    "BinaryOp",
    "Catalog",
    "Check",
    "Columns",
    "ConnectorError",
    "DialectError",
    "Dimension",
    "Evaluation",
    "Experiment",
    "ExperimentError",
    "ExpressionError",
    "ExpsqlError",
    "Goal",
    "GoalKey",
    "Metric",
    "Negate",
    "Number",
    "RowsError",
    "Source",
    "TimelineError",
    "__version__",
    "compile_sql",
    "compile_tree",
    "evaluate",
    "load_catalog",
    "load_experiment",
    "load_source",
    "minimum_detectable_effect",
    "parse_expression",
    "sample_size",
    "serve",
]


#: Names whose first use also attaches the report's notebook renderings to every evaluation.
_RENDERED = frozenset({"Evaluation", "evaluate"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        if name in _RENDERED:
            from expsql.report.notebook import attach_renderings

            attach_renderings()
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'expsql' has no attribute {name!r}")
