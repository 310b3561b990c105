"""Golden SQL of a refresh: for every built-in dialect that can keep a state, the statements that
write a new version (from the previous one and the raw rows of one window) and the query that reads
it, in ``golden/<case>/<dialect>.sql``; a dialect that cannot is refused. Review a change by reading
the diff; regenerate after an intended change with ``EXPSQL_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import sqlglot
import yaml

from expsql.dialects import get
from expsql.incremental import IncrementalError
from expsql.incremental.inputs import Window
from expsql.incremental.plans import plan_refresh
from expsql.incremental.refresh import check_dialect
from expsql.incremental.state import StateTables, Tiers
from expsql.models import validate_experiment
from expsql.source import validate_source
from tests.test_golden import BUILT_IN

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in GOLDEN.glob("*.yaml"))
UPDATE = os.environ.get("EXPSQL_UPDATE_GOLDEN", "") not in ("", "0")
KEEPING = [name for name in BUILT_IN if get(name).incremental]
WINDOW = Window(dt.datetime(2026, 11, 12, 6), dt.datetime(2026, 11, 13, 6))


def statements(case: str, dialect: str) -> list[str]:
    data = yaml.safe_load((GOLDEN / f"{case}.yaml").read_text(encoding="utf-8"))
    experiment = validate_experiment(data["experiment"], origin=case)
    source = validate_source(data["source"], origin=case)
    plan = plan_refresh(experiment, source, get(dialect))
    tables = StateTables("expsql_state", experiment.id)
    window = Window(plan.settle_point(WINDOW.since), plan.settle_point(WINDOW.until))  # type: ignore[arg-type]
    assert window.until is not None
    # Version 4 of a state whose base version 1 wrote: its recent tables, then the query of both.
    previous, new = Tiers(3, 1), Tiers(4, 1)
    return [
        *plan.settle_statements(tables, previous, new, window),
        plan.query(tables, new, window.until, "metrics"),
    ]


def test_the_dialects_that_keep_a_state() -> None:
    assert KEEPING == ["bigquery", "databricks", "duckdb", "postgres", "redshift", "snowflake", "spark"]


@pytest.mark.parametrize("dialect", KEEPING)
@pytest.mark.parametrize("case", CASES)
def test_refresh_statements_equal_the_golden_file(case: str, dialect: str) -> None:
    sql = ";\n\n".join(statements(case, dialect)) + ";\n"
    path = GOLDEN / case / f"{dialect}.sql"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"no golden {path.name}: run with EXPSQL_UPDATE_GOLDEN=1 and review it"
    assert sql == path.read_text(encoding="utf-8")
    parsed = [tree for tree in sqlglot.parse(sql, read=get(dialect).sqlglot_dialect) if tree is not None]
    assert len(parsed) == 3 if case.startswith("exposures") else 2


@pytest.mark.parametrize("dialect", sorted(set(BUILT_IN) - set(KEEPING)))
def test_the_others_are_refused(dialect: str) -> None:
    with pytest.raises(IncrementalError, match=f"{dialect} cannot keep an incremental state"):
        check_dialect(get(dialect))
