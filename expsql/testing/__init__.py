"""The conformance kit: proves that a dialect, built-in or plugin, returns the right rows on a live engine.

- :mod:`~expsql.testing.data`: the reference data of both source layouts, with the cases that
  break warehouses (NULL keys, timestamps exactly at window edges, units in two variants, quotes,
  backslashes, ``%``, ``_`` and non-ASCII in values, ``_`` in goal names, counts past 32 bits,
  events before the exposure).
- :mod:`~expsql.testing.cases`: the reference experiments, one or more per compiler feature
  (:data:`~expsql.testing.cases.FEATURES`), each with the expected rows of an independent pandas
  computation (:mod:`~expsql.testing.reference`, :mod:`~expsql.testing.attribution_reference`,
  :mod:`~expsql.testing.segment_reference`, :mod:`~expsql.testing.timeline_reference`).
- :mod:`~expsql.testing.kit`: :class:`Target` (a dialect, a Dao, how to write a table) and
  :func:`run_kit`, whose :class:`KitReport` says pass/fail per feature with the first differing row.
- :mod:`~expsql.testing.pytest_plugin`: ``DialectConformance`` to subclass in a plugin's tests, and
  the engine fixtures (a throwaway PostgreSQL server, Spark, a Spark Connect server, chdb).
- :mod:`~expsql.testing.engines`: those engines, started and stopped without pytest.

``expsql check`` runs the same kit against a warehouse a user names.
"""

from expsql.testing.cases import CASES, FEATURES, Case
from expsql.testing.data import reference_tables
from expsql.testing.kit import CaseResult, KitReport, Target, run_kit

__all__ = ["CASES", "FEATURES", "Case", "CaseResult", "KitReport", "Target", "reference_tables", "run_kit"]
