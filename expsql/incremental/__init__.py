"""Incremental refresh: a long experiment read every day costs one day of events per refresh.

expsql's rows are sums over units, so a refresh keeps the experiment's inputs settled so far in
the warehouse, compacted (:mod:`.inputs`), and reads only what is new, plus a late-arrival margin.
Its rows are the full query's on the same data: the refresh query *is* the full query, compiled as
for a run, reading the state in place of each source table.

- :mod:`.refresh` — :func:`refresh`: the steps, the atomic switch to the new version
- :mod:`.plans`   — the statements of a refresh; one family of inputs per source layout
- :mod:`.exposures`, :mod:`.attributed` — what each layout's state keeps
- :mod:`.inputs`  — the interface of a state input; :mod:`.state`, the tables and the record;
  :mod:`.locks`, one refresh of an experiment at a time
"""

from __future__ import annotations

from expsql.incremental.locks import RefreshBusy
from expsql.incremental.refresh import LATE_ARRIVAL_HOURS, IncrementalError, Refresh, StateOptions, refresh
from expsql.incremental.state import StateRecord

__all__ = [
    "LATE_ARRIVAL_HOURS",
    "IncrementalError",
    "Refresh",
    "RefreshBusy",
    "StateOptions",
    "StateRecord",
    "refresh",
]
