"""Fuzzing the grammar and the compiler with seeded hypothesis strategies.

- Random *valid* experiments (every function, operator, unary minus, integers and decimals,
  dimension filters with every operator and ``|`` value lists, several metrics and checks, date
  windows, experiment filters of every scope, outlier percentiles) compile for every registered
  dialect and every row contract to SQL that sqlglot reads
  back in that dialect and writes out again unchanged; on DuckDB the rows equal the pandas oracle
  of :mod:`expsql.testing.reference`.
- Random *invalid* text (strings heavy in grammar tokens, mutations of valid expressions) either
  parses or raises :class:`ExpressionError` — never another exception — at a position inside the
  text whose line and column agree with it.

Every test is derandomized (same examples on every run) and bounded; the file runs in seconds.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import sqlglot
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from expsql import ExpressionError, parse_expression
from expsql.compiler import ROWS, compile_sql
from expsql.dialects import Dao, available, get
from expsql.errors import MetricRowsRequired
from expsql.grammar.ast import BinaryOp, Dimension, Expr, Goal, Negate, Number, goals
from expsql.grammar.parse import MAX_DIVISOR_NESTING, MAX_NESTING
from expsql.models import Experiment
from expsql.source import Source
from expsql.testing import load
from expsql.testing.events import (
    DAYS,
    DIMENSION_TYPES,
    FIRST_DAY,
    GOALS,
    PLATFORMS,
    PRODUCTS,
    generate_events,
)
from expsql.testing.reference import assert_rows_equal, goal_rows, metric_rows, unit_rows

SOURCE = Source(dimensions=DIMENSION_TYPES)
DIALECTS = tuple(available())
#: Examples per test; the counts are reported by ``pytest --hypothesis-show-statistics``.
COMPILE_EXAMPLES = 15
EXECUTE_EXAMPLES = 20
TEXT_EXAMPLES = 600
FUZZ = settings(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- valid experiments ------------------------------------------------------------------------

#: Any value the grammar's VALUE terminal admits: '%', '_', '/', '-', '.', inner spaces.
RANDOM_VALUE = st.from_regex(r"[A-Za-z0-9_\-.%/]([A-Za-z0-9_\-.% /]{0,6}[A-Za-z0-9_\-.%/])?", fullmatch=True)
PRODUCT_VALUE = st.one_of(
    st.sampled_from(PRODUCTS), st.sampled_from(["p", "p_", "p%", "q", "50%"]), RANDOM_VALUE
)
PRICE_VALUE = st.integers(0, 20).map(str)


@st.composite
def dimension_filters(draw: st.DrawFn) -> tuple[Dimension, ...]:
    """Filters on the events' ``product`` (string) and ``price`` (integer) columns."""
    filters = []
    for name in draw(st.lists(st.sampled_from(["product", "price"]), max_size=2, unique=True)):
        operators = ["=", "!=", "<", "<=", ">", ">="] + (["=^"] if name == "product" else [])
        operator = draw(st.sampled_from(operators))
        count = draw(st.integers(1, 3)) if operator in ("=", "!=", "=^") else 1
        value = PRODUCT_VALUE if name == "product" else PRICE_VALUE
        filters.append(
            Dimension(name, operator, tuple(draw(st.lists(value, min_size=count, max_size=count))))
        )
    return tuple(filters)


def goal_strategy(unit_type: str) -> st.SearchStrategy[Goal]:
    return st.builds(
        Goal,
        function=st.sampled_from(["count", "value", "unique"]),
        unit_type=st.just(unit_type),
        agg_type=st.sampled_from(["unit", "unit", "global"]),
        goal=st.sampled_from([*GOALS, "exposure", "missing"]),
        dimensions=st.one_of(st.just(()), dimension_filters()),
    )


NUMBERS = st.builds(
    Number,
    st.one_of(st.integers(0, 1000), st.decimals(min_value=0, max_value=100, places=2).map(Decimal)),
)


def expressions(unit_type: str) -> st.SearchStrategy[Expr]:
    leaves = st.one_of(goal_strategy(unit_type), goal_strategy(unit_type), NUMBERS)
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.builds(BinaryOp, st.sampled_from(["+", "-", "~", "*", "/"]), children, children),
            st.builds(Negate, children),
        ),
        max_leaves=6,
    )


def with_goal(unit_type: str) -> st.SearchStrategy[Expr]:
    return expressions(unit_type).filter(lambda tree: bool(goals(tree)))


@st.composite
def spelled(draw: st.DrawFn, tree: Expr) -> str:
    """``tree`` as text with random spacing and redundant parentheses, not only its canonical form."""

    def text(node: Expr) -> str:
        if isinstance(node, BinaryOp):
            left, right = wrap(node.left, node, False), wrap(node.right, node, True)
            inner = f"{left}{space()}{node.operator}{space()}{right}"
        elif isinstance(node, Negate):
            inner = (
                "-"
                + space()
                + (f"({text(node.operand)})" if isinstance(node.operand, BinaryOp) else text(node.operand))
            )
        else:
            inner = str(node)
        return f"({space()}{inner}{space()})" if draw(st.integers(0, 9)) == 0 else inner

    def wrap(child: Expr, parent: BinaryOp, right: bool) -> str:
        if not isinstance(child, BinaryOp):
            return text(child)
        mine, theirs = _precedence(parent.operator), _precedence(child.operator)
        return f"({text(child)})" if theirs < mine or (right and theirs == mine) else text(child)

    def space() -> str:
        return draw(st.sampled_from(["", "", " ", "  ", "\n", "\t"]))

    return text(tree)


def _precedence(operator: str) -> int:
    return 2 if operator in ("*", "/") else 1


#: Outlier percentiles a metric may carry (None and 0 cap nothing).
PERCENTILES = st.sampled_from([None, None, 0, 0.5, 2.5, 10, 49.9])


@st.composite
def experiment_filters(draw: st.DrawFn) -> list[dict[str, Any]]:
    """ep-stats' filters of every scope over the events' dimension columns, values typed or random."""

    def values(name: str) -> list[Any]:
        pool = {
            "product": st.one_of(st.sampled_from(PRODUCTS), RANDOM_VALUE),
            "price": st.integers(0, 20),
            "platform": st.one_of(st.sampled_from(PLATFORMS), RANDOM_VALUE),
        }[name]
        return draw(st.lists(pool, min_size=1, max_size=3))

    filters: list[dict[str, Any]] = []
    for scope in draw(st.lists(st.sampled_from(["goal", "exposure", "trigger"]), max_size=2)):
        if scope == "exposure":
            filters.append({"scope": scope, "dimension": "platform", "value": values("platform")})
            continue
        entry: dict[str, Any] = {"scope": scope}
        if scope == "trigger" or draw(st.booleans()):
            entry["goal"] = draw(st.sampled_from(GOALS))
        if scope == "goal" or draw(st.booleans()):
            dimension = draw(st.sampled_from(["product", "price", "platform"]))
            entry |= {"dimension": dimension, "value": values(dimension)}
        filters.append(entry)
    return filters


@st.composite
def experiments(draw: st.DrawFn) -> Experiment:
    unit_type = draw(st.sampled_from(["user", "session"]))
    metrics: list[dict[str, Any]] = []
    for number in range(draw(st.integers(1, 4))):
        nominator = draw(expressions(unit_type))
        denominator = draw(with_goal(unit_type) if not goals(nominator) else expressions(unit_type))
        metric_id = draw(st.one_of(st.just(number + 1), st.just(f"m-{number + 1}")))
        metrics.append(
            {
                "id": metric_id,
                "name": f"metric {number}",
                "nominator": draw(spelled(nominator)),
                "denominator": draw(spelled(denominator)),
            }
        )
        if draw(st.integers(0, 3)) == 0:  # a quarter of the metrics cap outliers: goal rows still run
            metrics[-1] |= {
                "outlier_upper_percentile": draw(PERCENTILES),
                "outlier_lower_percentile": draw(PERCENTILES),
            }
    checks: list[dict[str, Any]] = []
    for number in range(draw(st.integers(0, 2))):
        check: dict[str, Any] = {
            "id": number,
            "name": "check",
            "denominator": str(draw(with_goal(unit_type))),
        }
        if draw(st.booleans()):
            check |= {"type": "SumRatio", "nominator": str(draw(with_goal(unit_type)))}
        checks.append(check)
    days = sorted(draw(st.lists(st.integers(-1, DAYS), min_size=3, max_size=3)))
    window: dict[str, dt.date] = {}
    if draw(st.booleans()):
        window = {
            "date_from": FIRST_DAY + dt.timedelta(days[0]),
            "date_to": FIRST_DAY + dt.timedelta(days[2]),
        }
        if draw(st.booleans()):
            window["date_for"] = FIRST_DAY + dt.timedelta(days[1])
    return Experiment(
        id=draw(st.sampled_from(["exp-1", "exp-2"])),
        control_variant="a",
        unit_type=unit_type,
        metrics=metrics,
        checks=checks,
        filters=draw(experiment_filters()),
        **window,
    )


@settings(FUZZ, max_examples=COMPILE_EXAMPLES)
@given(experiments())
def test_random_experiments_compile_for_every_dialect_to_sql_sqlglot_reads_back(
    experiment: Experiment,
) -> None:
    for name in DIALECTS:
        dialect = get(name)
        for rows in ROWS:
            if rows == "goals" and experiment.winsorized_metrics():
                with pytest.raises(MetricRowsRequired):
                    compile_sql(experiment, dialect=dialect, rows=rows, source=SOURCE)
                continue
            sql = compile_sql(experiment, dialect=dialect, rows=rows, source=SOURCE)
            tree = sqlglot.parse_one(sql, read=dialect.sqlglot)
            assert dialect.render(tree) == sql, (name, rows)
            strings = {literal.this for literal in tree.find_all(sqlglot.exp.Literal) if literal.is_string}
            assert experiment.id in strings, (name, rows)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_events(20240517, experiments=2, units=40)


@pytest.fixture(scope="module")
def duckdb_dao(events: pd.DataFrame) -> Iterator[Dao]:
    dao = get("duckdb").connect()
    load.to_duckdb(dao.connection, events)  # type: ignore[attr-defined]
    yield dao
    dao.close()


@settings(FUZZ, max_examples=EXECUTE_EXAMPLES, suppress_health_check=list(HealthCheck))
@given(experiment=experiments())
def test_random_experiments_on_duckdb_equal_the_pandas_reference(
    experiment: Experiment, duckdb_dao: Dao, events: pd.DataFrame
) -> None:
    # Reported by ``pytest --hypothesis-show-statistics``: how many examples carry each feature.
    event(f"filters: {' '.join(sorted({f.scope for f in experiment.filters})) or 'none'}")
    event(f"winsorized: {bool(experiment.winsorized_metrics())}")
    contracts = {"goals": goal_rows, "metrics": metric_rows, "units": unit_rows}
    if experiment.winsorized_metrics():
        del contracts["goals"]  # refused: goal rows hold no per-unit values to cap
    for rows, reference in contracts.items():
        sql = compile_sql(experiment, dialect="duckdb", rows=rows, source=SOURCE)
        assert_rows_equal(duckdb_dao.execute(sql), reference(events, experiment, SOURCE))


def test_the_deepest_accepted_expressions_compile_everywhere_and_run_on_duckdb(
    duckdb_dao: Dao, events: pd.DataFrame
) -> None:
    """:data:`MAX_NESTING` levels compile for every dialect (the compiler and sqlglot's generator
    recurse) and DuckDB's rows equal the oracle's. sqlglot's own *parser* cannot read such SQL
    back (it recurses ~20 frames per level), so this test runs the SQL instead of parsing it.
    The right-nested shape holds the deepest divisions inside divisors the parser accepts
    (:data:`MAX_DIVISOR_NESTING`; DuckDB's planning time doubles with each)."""
    goal = "count(user.unit.click(product=^p_))"
    deepest = {
        "chain": " - ".join([goal] * (MAX_NESTING + 1)),
        "minus": "-" * MAX_NESTING + goal,
        "right": f"{goal} * (" * (MAX_NESTING // 2 - MAX_DIVISOR_NESTING)
        + f"{goal} / (" * MAX_DIVISOR_NESTING
        + goal
        + ")" * (MAX_NESTING // 2),
    }
    metrics = [{"id": k, "name": k, "nominator": v, "denominator": v} for k, v in deepest.items()]
    experiment = Experiment(id="exp-1", control_variant="a", unit_type="user", metrics=metrics)
    for name in DIALECTS:
        for rows in ROWS:
            assert compile_sql(experiment, dialect=name, rows=rows, source=SOURCE)
    for rows, reference in (("goals", goal_rows), ("metrics", metric_rows)):
        sql = compile_sql(experiment, dialect="duckdb", rows=rows, source=SOURCE)
        assert_rows_equal(duckdb_dao.execute(sql), reference(events, experiment, SOURCE))


# --- invalid text ---------------------------------------------------------------------------

TOKENS = [
    *("count", "value", "unique", "sum", "user", "session", "unit", "global", "exposure", "product"),
    *("(", ")", "(", ")", ".", ".", ",", "|", "=", "!=", "<", "<=", ">", ">=", "=^", "^", "!"),
    *("+", "-", "~", "*", "/", "1", "0.5", "1.", ".5", "007", "p_1", "50%", "a b", " ", " ", "\n", "\t"),
    *("'", '"', "\\", ";", "--", "/*", "*/", "\x00", "é", "中文", "😀", "\u202e", "\r\n", "1e5", "_"),
]
TOKEN_SOUP = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)
SEEDS = [
    "value(user.unit.conversion(product=p_1|p_2)) / count(user.global.exposure)",
    "count(user.unit.click(product=^p_, price>=3)) - -2 * unique(user.unit.view) ~ 0.5",
    "(count(session.unit.view(product!=a b|c/d, price<4)) + 1) * value(session.global.refund)",
]


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """A valid expression with a few characters deleted, inserted, replaced or swapped."""
    text = list(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "insert", "replace", "swap"]))
        position = draw(st.integers(0, max(0, len(text) - 1)))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.characters(codec="utf-8")))
        if kind == "delete" and text:
            del text[position : position + draw(st.integers(1, 5))]
        elif kind == "insert":
            text.insert(position, piece)
        elif kind == "replace" and text:
            text[position] = piece
        elif len(text) > 1:
            other = draw(st.integers(0, len(text) - 1))
            text[position], text[other] = text[other], text[position]
    return "".join(text)


def assert_parses_or_fails_cleanly(text: str) -> None:
    """Either a tree whose canonical text parses back to it, or an ExpressionError pointing inside."""
    try:
        tree = parse_expression(text)
    except ExpressionError as error:
        assert type(error) is ExpressionError
        assert error.text == text
        assert 0 <= error.position <= len(text) and error.position <= error.end
        before = text[: error.position].split("\n")
        assert (error.line, error.column) == (len(before), len(before[-1]) + 1)
        assert error.summary and error.summary in str(error)
        json.dumps(error.to_dict())
    else:
        assert parse_expression(str(tree)) == tree


@settings(FUZZ, max_examples=TEXT_EXAMPLES)
@given(st.one_of(TOKEN_SOUP, st.text(max_size=40)))
def test_random_text_parses_or_raises_an_expression_error(text: str) -> None:
    assert_parses_or_fails_cleanly(text)


@settings(FUZZ, max_examples=TEXT_EXAMPLES)
@given(mutations())
def test_mutated_expressions_parse_or_raise_an_expression_error(text: str) -> None:
    assert_parses_or_fails_cleanly(text)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_proper_prefix_of_a_valid_expression_fails_cleanly(seed: str) -> None:
    for end in range(len(seed)):
        assert_parses_or_fails_cleanly(seed[:end])
