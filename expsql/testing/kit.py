"""The conformance kit's runner: write the reference tables, run every reference experiment through a
dialect's compiled SQL on its Dao, compare each row contract with the oracle's rows, report per
feature.

A :class:`Target` is what a dialect author (or ``expsql check``) provides: the dialect, a Dao, and
how to write a DataFrame as a table (and drop it). :func:`run_kit` returns a :class:`KitReport`;
its :meth:`~KitReport.to_text` is the pass/fail table ``expsql check`` prints, each failure with the
first differing row.

A feature the target declares unsupported (or that the dialect's capabilities rule out: a dialect
with ``percentile="none"`` cannot winsorize in metric rows) is not run: the kit checks instead that
compiling it raises expsql's own error (:class:`~expsql.errors.ExpsqlError`), so a user learns it
before any SQL reaches the warehouse.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import pandas as pd

from expsql.compiler import compile_sql
from expsql.dialects import Dao, Dialect, get
from expsql.errors import ConnectorError, ExpsqlError
from expsql.stats.timeline import row_days, rows_as_of
from expsql.testing.cases import CASES, FEATURES, Case
from expsql.testing.compare import first_difference
from expsql.testing.data import (
    TABLES,
    attributed_source,
    event_tables_source,
    exposures_source,
    reference_tables,
    table_name,
)
from expsql.testing.exposure_events import DATE_FROM, DATE_TO
from expsql.testing.segment_reference import labelled

Status = Literal["pass", "fail", "unsupported"]
Loader = Callable[[pd.DataFrame, str], None]


@dataclass(frozen=True)
class Target:
    """A dialect on a live engine.

    :param dialect: the dialect (or its registry name) whose SQL runs.
    :param dao: runs that SQL.
    :param load: writes a DataFrame as the table of the given name (replacing it); ``None`` when
        the reference tables are already there.
    :param drop: drops the table of the given name; ``None`` to leave the tables.
    :param schema: where the reference tables live (``scratch``, ``catalog.scratch``); ``None`` for
        the connection's default.
    :param unsupported: features (names of :data:`~expsql.testing.cases.FEATURES`) the dialect
        declares it cannot compile: the kit checks that compiling them raises expsql's error.
    """

    dialect: Dialect | str
    dao: Dao
    load: Loader | None = None
    drop: Callable[[str], None] | None = None
    schema: str | None = None
    unsupported: frozenset[str] = frozenset()

    @classmethod
    def of(cls, dialect: Dialect | str, dao: Dao, **fields: object) -> Target:
        """A target whose Dao writes and drops tables itself (``load_table`` and ``drop_table``)."""
        load = getattr(dao, "load_table", None)
        drop = getattr(dao, "drop_table", None)
        return cls(dialect, dao, load=load, drop=drop, **fields)  # type: ignore[arg-type]

    @property
    def resolved(self) -> Dialect:
        return self.dialect if isinstance(self.dialect, Dialect) else get(self.dialect)

    def refuses(self, case: Case, contract: str) -> bool:
        """Whether the dialect cannot compile ``case`` in ``contract``: declared, or its capabilities."""
        if case.feature in self.unsupported:
            return True
        capped = bool(case.experiment.winsorized_metrics())
        return capped and contract == "metrics" and self.resolved.percentile == "none"


@dataclass(frozen=True)
class CaseResult:
    """One case in one row contract: ``pass``, ``fail`` (with ``detail``) or ``unsupported``."""

    case: str
    feature: str
    contract: str
    status: Status
    detail: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class KitReport:
    """Every result of a run; ``passed`` when none failed."""

    dialect: str
    results: tuple[CaseResult, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> list[CaseResult]:
        return [result for result in self.results if result.status == "fail"]

    @property
    def passed(self) -> bool:
        return not self.failures

    def by_feature(self) -> dict[str, list[CaseResult]]:
        grouped: dict[str, list[CaseResult]] = {feature: [] for feature in FEATURES}
        for result in self.results:
            grouped.setdefault(result.feature, []).append(result)
        return {feature: results for feature, results in grouped.items() if results}

    def to_text(self) -> str:
        """The pass/fail table per feature, then each failure with its first differing row."""
        lines = [f"conformance of {self.dialect}: {'PASS' if self.passed else 'FAIL'}"]
        width = max(len(feature) for feature in FEATURES)
        for feature, results in self.by_feature().items():
            statuses = {result.status for result in results}
            verdict = (
                "FAIL" if "fail" in statuses else "unsupported" if statuses == {"unsupported"} else "pass"
            )
            runs = ", ".join(f"{r.case} [{r.contract}]" for r in results)
            lines.append(f"  {feature:<{width}}  {verdict:<11}  {runs}")
        for failure in self.failures:
            lines.append(f"FAIL {failure.case} [{failure.contract}]: {failure.detail}")
        return "\n".join(lines)


def tables_for(case: Case) -> tuple[str, ...]:
    return {
        "attributed": ("attributed",),
        "exposures": ("exposures", "events"),
        "event tables": ("exposures", "page_events", "purchases"),
    }[case.layout]


def load_reference_tables(target: Target, roles: Iterable[str] = tuple(TABLES)) -> list[str]:
    """Write the reference tables through ``target.load``; the names written, in order."""
    if target.load is None:
        return []
    written = []
    tables = reference_tables()
    for role in roles:
        name = table_name(role, target.schema)
        target.load(tables[role], name)
        written.append(name)
    return written


@contextmanager
def reference_tables_loaded(target: Target) -> Iterator[list[str]]:
    """The reference tables written for the block and dropped after it, also on failure or Ctrl-C:
    every table whose write was attempted is dropped. A table that cannot be dropped is an error
    naming it, unless the block already failed (that error is the one raised)."""
    attempted: list[str] = []
    failed = True
    try:
        if target.load is not None:
            tables = reference_tables()
            for role in TABLES:
                name = table_name(role, target.schema)
                attempted.append(name)
                target.load(tables[role], name)
        yield attempted
        failed = False
    finally:
        left = _drop_all(target, attempted)
        if left and not failed:
            raise ConnectorError(f"could not drop the reference tables {', '.join(left)}: drop them by hand")


def _drop_all(target: Target, names: list[str]) -> list[str]:
    """Drop each table; the names of those that could not be dropped."""
    left = []
    for name in names if target.drop is not None else ():
        try:
            target.drop(name)  # type: ignore[misc]
        except Exception:
            left.append(name)
    return left


def _source(case: Case, schema: str | None) -> object:
    sources = {
        "attributed": attributed_source,
        "exposures": exposures_source,
        "event tables": event_tables_source,
    }
    return sources[case.layout](schema)


def run_case(target: Target, case: Case, contract: str) -> CaseResult:
    """Compile ``case`` for the target's dialect, run it, compare with the oracle."""
    started = time.perf_counter()
    dialect = target.resolved
    source = _source(case, target.schema)

    def result(status: Status, detail: str = "") -> CaseResult:
        return CaseResult(case.name, case.feature, contract, status, detail, time.perf_counter() - started)

    if target.refuses(case, contract):
        try:
            compile_sql(case.experiment, dialect=dialect, rows=contract, source=source)  # type: ignore[arg-type]
        except ExpsqlError as error:
            return result("unsupported", str(error))
        except Exception as error:
            return result("fail", f"declared unsupported, but compiling raised {error!r}, not expsql's error")
        return result("fail", f"declared unsupported, but {dialect.name} compiled it without an error")
    try:
        sql = compile_sql(case.experiment, dialect=dialect, rows=contract, source=source)  # type: ignore[arg-type]
        rows = target.dao.execute(sql)
    except Exception as error:
        return result("fail", f"{type(error).__name__}: {error}")
    try:
        if case.experiment.timeline is None:
            if case.experiment.breakdown:  # segments compared as the stats read them: NULL is "(null)"
                rows = labelled(rows, list(case.experiment.breakdown))
            difference = first_difference(rows, expected_rows(case, contract))
        else:
            difference = _timeline_difference(case, rows)
    except Exception as error:  # rows of a shape the comparison cannot read
        return result("fail", f"rows could not be compared: {type(error).__name__}: {error}")
    return result("fail", difference) if difference else result("pass")


@cache
def expected_rows(case: Case, contract: str) -> pd.DataFrame:
    """The oracle's rows of ``case`` in ``contract``, computed once per process."""
    return case.expected(reference_tables(), contract)


@cache
def expected_as_of(case: Case, day: dt.date) -> pd.DataFrame:
    """The oracle's timeline rows of ``case`` as of ``day``, computed once per process."""
    return case.expected_as_of(reference_tables(), day)


def _timeline_difference(case: Case, rows: pd.DataFrame) -> str | None:
    """The first day whose rows as of its end differ from the oracle's window cut there."""
    if rows.empty:
        return "no timeline rows"
    days = row_days(rows)
    day = DATE_FROM
    while day <= DATE_TO:
        if day >= days.min():
            difference = first_difference(rows_as_of(rows, days, day), expected_as_of(case, day))
            if difference:
                return f"as of {day}: {difference}"
        day += dt.timedelta(days=1)
    return None


def run_kit(target: Target, cases: Iterable[Case] | None = None, *, load: bool = True) -> KitReport:
    """Every reference experiment (or ``cases``) in each of its row contracts on ``target``.

    With ``load`` the reference tables are written first and dropped at the end (when the target
    can drop); without, they must already be there.
    """
    chosen = list(CASES.values() if cases is None else cases)
    results: list[CaseResult] = []

    def run_all() -> None:
        for case in chosen:
            for contract in case.contracts:
                results.append(run_case(target, case, contract))

    if load:
        with reference_tables_loaded(target):
            run_all()
    else:
        run_all()
    return KitReport(target.resolved.name, tuple(results))
