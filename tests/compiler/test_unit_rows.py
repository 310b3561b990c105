"""Unit rows: the contract's columns, one scan in every dialect, labels like the goal rows'."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import ROWS, compile_sql
from expsql.contracts import GOAL_KEYS, UNIT_KEYS, UNIT_VALUES
from expsql.dialects import available, get
from expsql.dialects.registry import default_registry
from expsql.errors import ExperimentError
from expsql.models import Experiment
from expsql.source import Source

SOURCE = Source(dimensions={"product": "string", "price": "integer"})
BUILT_IN = [name for name in available() if default_registry().origin(name) == "built-in"]
DEFINITION = Experiment.model_validate(
    {
        "id": "e",
        "control_variant": "a",
        "unit_type": "user",
        "metrics": [
            {
                "id": 1,
                "name": "m",
                "nominator": "value(user.unit.conversion(product=p_1, price>3))",
                "denominator": "count(user.unit.click(product=^p_))",
            }
        ],
        "filters": [{"scope": "trigger", "goal": "view"}],
    }
)


def test_unit_keys_extend_the_goal_keys_with_the_unit() -> None:
    assert (*GOAL_KEYS, "unit_id") == UNIT_KEYS
    assert UNIT_VALUES == ("count", "sum_value")
    assert "units" in ROWS


def test_output_columns_follow_the_contract() -> None:
    connection = duckdb.connect(":memory:")
    connection.execute(
        "CREATE TABLE events (exp_id TEXT, exp_variant_id TEXT, unit_type TEXT, agg_type TEXT, goal TEXT,"
        " unit_id TEXT, cnt BIGINT, value DOUBLE, date DATE, product TEXT, price BIGINT)"
    )
    connection.execute(
        "INSERT INTO events VALUES"
        " ('e', 'a', 'user', 'global', 'exposure', 'u1', 1, NULL, '2024-03-01', NULL, NULL),"
        " ('e', 'a', 'user', 'unit', 'view', 'u1', 1, NULL, '2024-03-01', NULL, NULL),"
        " ('e', 'a', 'user', 'unit', 'conversion', 'u1', 1, 9.5, '2024-03-01', 'p_1', 4),"
        " ('e', 'a', 'user', 'unit', 'conversion', 'u1', 1, 0.5, '2024-03-02', 'p_1', 5),"
        " ('e', 'a', 'user', 'global', 'exposure', 'u2', 1, NULL, '2024-03-01', NULL, NULL)"
    )
    frame = connection.execute(compile_sql(DEFINITION, rows="units", source=SOURCE)).df()
    assert list(frame.columns) == [*UNIT_KEYS, "product", "price", *UNIT_VALUES]
    rows = sorted(frame.itertuples(index=False, name=None))
    # u2 never viewed: the trigger filter drops it; u1's view is no term and gives no row.
    assert rows == [
        ("e", "a", "user", "global", "exposure", "u1", "", "", 1, 0.0),
        ("e", "a", "user", "unit", "conversion", "u1", "p_1", ">3", 2, 10.0),
    ]


@pytest.mark.parametrize("dialect", BUILT_IN)
def test_one_scan_of_the_events_table_in_every_dialect(dialect: str) -> None:
    (statement,) = sqlglot.parse(
        compile_sql(DEFINITION, dialect=dialect, rows="units", source=SOURCE),
        read=get(dialect).sqlglot_dialect,
    )
    assert statement is not None
    assert len([t for t in statement.find_all(exp.Table) if t.name == "events"]) == 1


def test_unknown_rows_name_every_contract() -> None:
    with pytest.raises(ExperimentError, match="use one of goals, metrics, units"):
        compile_sql(DEFINITION, rows="unit")
