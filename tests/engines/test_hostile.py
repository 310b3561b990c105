"""Hostile names and values, executed: text with quotes, comments, statements, NUL, newlines,
``%``/``_``, non-ASCII and great length, as experiment, variant, metric and check ids, as the
table's name, as a column's name and as the values of experiment filters (which come from JSON,
not from the metric grammar).

Each text either compiles to a query whose literals and identifiers hold it exactly — proved by
running the query on DuckDB and PostgreSQL over events that carry exactly that text, finding it
in the result rows, matching the pandas oracle, and finding the events table unchanged afterwards
— or it is rejected with a typed error before any SQL exists. Dimension values from the corpus of
:mod:`tests.engines.test_cross_engine` are not repeated here; names the metric grammar forbids
(goal and dimension names, filter values) are rejected by the parser, never escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from sqlglot import exp

from expsql import ExpressionError
from expsql.compiler import compile_sql
from expsql.dialects import Dao, get
from expsql.errors import ExperimentError
from expsql.models import Experiment, validate_experiment
from expsql.source import Columns, Source
from expsql.testing import load
from expsql.testing.events import generate_events
from expsql.testing.reference import assert_rows_equal, goal_rows, metric_rows

HOSTILE = {
    "single quote": "it's",
    "double quote": 'say "hi"',
    "backslash": "back\\slash\\",
    "backslash quote": "\\'; SELECT 1; --",
    "line comment": "x -- y",
    "block comment": "x /* y */ z",
    "unclosed comment": "x /* y",
    "semicolon": "a;b",
    "statement": "'; DROP TABLE events; --",
    "identifier statement": '"; DROP TABLE events; --',
    "newlines": "line 1\nline 2\r\nline 3",
    "percent underscore": "50%_off",
    "dollar quote": "$$; DROP TABLE events; $$",
    "backtick": "`x`",
    "accents": "naïve café",
    "chinese": "中文实验",
    "emoji": "🧪 test 🚀",
    "right to left": "\u202eאבג",
    "long": "x" * 50 + "'\"" * 5 + "y" * 50,
}
#: What a text is used as in one run.
ROLES = ("exp_id", "variant", "metric_id", "check_id", "table", "column")
ENGINES = ("duckdb", "postgres")


def experiment_for(text: str) -> Experiment:
    return Experiment(
        id=text,
        control_variant="a",
        unit_type="user",
        metrics=[
            {
                "id": text,
                "name": text,
                "nominator": "value(user.unit.conversion)",
                "denominator": "count(user.global.exposure)",
            },
            {
                "id": 2,
                "name": "clicks",
                "nominator": "count(user.unit.click(product=^p_))",
                "denominator": "unique(user.global.exposure)",
            },
        ],
        checks=[{"id": text, "name": text, "denominator": "count(user.global.exposure)"}],
    )


def source_for(text: str) -> Source:
    """``text`` as the table's name and the variant column's name (dots would qualify a table)."""
    table = text if "." not in text else text.replace(".", "_")
    return Source(table=table, columns=Columns(exp_variant_id=text))


def events_for(text: str, variant_column: str) -> pd.DataFrame:
    """Events of one experiment whose id is ``text``, with ``text`` as the second variant."""
    events = generate_events(7, experiments=1, units=25)
    events["exp_id"] = text
    events["exp_variant_id"] = events["exp_variant_id"].replace({"b": text})
    return events.rename(columns={"exp_variant_id": variant_column})


def fingerprint_query(table: str, cnt: str = "cnt") -> str:
    """``COUNT(*)`` and ``SUM(cnt)`` of a table, its name an identifier node, never text."""
    name = exp.Table(this=exp.Identifier(this=table, quoted=True))
    column = exp.Column(this=exp.Identifier(this=cnt, quoted=True))
    return exp.select(exp.Count(this=exp.Star()), exp.Sum(this=column)).from_(name).sql("duckdb")


class Engine:
    """Load a table and run SQL on DuckDB or PostgreSQL, with the same interface."""

    def __init__(
        self, name: str, dao: Dao, loader: Callable[[pd.DataFrame, str], None], raw: Callable[[str], Any]
    ):
        self.name, self.dao, self.load, self.raw = name, dao, loader, raw


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "duckdb":
        connection = request.getfixturevalue("duckdb_connection")

        def load_duckdb(events: pd.DataFrame, table: str) -> None:
            connection.register("incoming", load.arrow_table(events))
            target = exp.Table(this=exp.Identifier(this=table, quoted=True))
            connection.execute(
                exp.Create(this=target, kind="TABLE", expression=exp.select("*").from_("incoming")).sql(
                    "duckdb"
                )
            )
            connection.unregister("incoming")

        yield Engine(
            "duckdb",
            get("duckdb").connect(connection=connection),
            load_duckdb,
            lambda sql: connection.execute(sql).fetchall(),
        )
    else:
        connection = request.getfixturevalue("postgres_connection")

        def load_postgres(events: pd.DataFrame, table: str) -> None:
            load.to_postgres(connection, events, table=table)

        def raw(sql: str) -> Any:
            with connection.cursor() as cursor:
                return cursor.execute(sql).fetchall()

        yield Engine("postgres", get("postgres").connect(connection=connection), load_postgres, raw)
        from psycopg import sql

        for table in raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
            connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table[0])))


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_text_is_held_exactly_and_harms_nothing(case: str, engine: Engine) -> None:
    text = HOSTILE[case]
    experiment, source = experiment_for(text), source_for(text)
    bound = get(engine.name).max_identifier_bytes
    if bound is not None and len(text.encode()) > bound:
        # A name the warehouse would cut is refused; the text still goes everywhere else.
        with pytest.raises(ExperimentError, match="would silently cut it"):
            compile_sql(experiment, dialect=engine.name, rows="goals", source=source)
        source = Source(table="hostile")
    events = events_for(text, source.columns.exp_variant_id)
    decoy = generate_events(8, experiments=1, units=5)
    engine.load(decoy, "events")
    engine.load(events, source.table)
    before = engine.raw(fingerprint_query(source.table)), engine.raw(fingerprint_query("events"))

    goals = engine.dao.execute(compile_sql(experiment, dialect=engine.name, rows="goals", source=source))
    metrics = engine.dao.execute(compile_sql(experiment, dialect=engine.name, rows="metrics", source=source))

    assert set(goals["exp_id"]) == {text} and set(metrics["exp_id"]) == {text}
    variants = set(events[source.columns.exp_variant_id])
    assert text in variants and set(goals["exp_variant_id"]) == variants == set(metrics["exp_variant_id"])
    assert set(metrics["metric_id"]) == {text, "2", f"@check:{text}", "@exposure"}
    assert_rows_equal(goals, goal_rows(events, experiment, source))
    assert_rows_equal(metrics, metric_rows(events, experiment, source))
    after = engine.raw(fingerprint_query(source.table)), engine.raw(fingerprint_query("events"))
    assert after == before and before[0][0][0] == len(events) and before[1][0][0] == len(decoy)


NUL_PLACES: dict[str, Callable[[str], tuple[Experiment, Source]]] = {
    "experiment id": lambda t: (experiment_for(t), Source()),
    "metric id": lambda t: (
        experiment_for("e").model_copy(update={"metrics": experiment_for(t).metrics}),
        Source(),
    ),
    "check id": lambda t: (
        experiment_for("e").model_copy(update={"checks": experiment_for(t).checks}),
        Source(),
    ),
    "table": lambda t: (experiment_for("e"), Source(table=t)),
    "column unit_id": lambda t: (experiment_for("e"), Source(columns=Columns(unit_id=t))),
    "filters.0.value": lambda t: (with_filters(experiment_for("e"), [goal_filter(t)]), Source()),
}


@pytest.mark.parametrize("place", NUL_PLACES)
@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
def test_nul_is_rejected_before_any_sql_naming_its_position(place: str, dialect: str) -> None:
    """PostgreSQL can store no NUL in text or names; no warehouse can in names: one rule for all."""
    experiment, source = NUL_PLACES[place]("ab\x00c")
    for rows in ("goals", "metrics"):
        with pytest.raises(
            ExperimentError, match=rf"^{place} 'ab\\x00c' holds a NUL character at position 2"
        ):
            compile_sql(experiment, dialect=dialect, rows=rows, source=source)


def goal_filter(text: str) -> dict[str, Any]:
    return {"scope": "goal", "dimension": "product", "value": ["p_1", text]}


def with_filters(experiment: Experiment, filters: list[dict[str, Any]]) -> Experiment:
    return Experiment.model_validate(experiment.model_dump() | {"filters": filters})


@pytest.mark.parametrize("case", HOSTILE)
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_hostile_experiment_filter_values_match_exactly_and_harm_nothing(case: str, engine: Engine) -> None:
    """An experiment filter's values come from JSON, not the grammar: any text, held exactly."""
    text = HOSTILE[case]
    events = generate_events(9, experiments=1, units=30)
    tagged = events["goal"].isin(["click", "conversion"]) & (events.index % 3 == 0)
    events.loc[tagged, "product"] = text
    exposures = events.index[events["goal"] == "exposure"]
    events.loc[exposures[::2], "platform"] = text  # every other exposure event carries the text
    experiment = with_filters(
        experiment_for("exp-1"),
        [
            goal_filter(text),
            {"scope": "exposure", "dimension": "platform", "value": [text]},
            {"scope": "trigger", "goal": "click", "dimension": "product", "value": [text]},
        ],
    )
    source = Source(dimensions={"product": "string", "platform": "string"})
    engine.load(events, "events")
    before = engine.raw(fingerprint_query("events"))
    for rows, reference in (("goals", goal_rows), ("metrics", metric_rows)):
        result = engine.dao.execute(compile_sql(experiment, dialect=engine.name, rows=rows, source=source))
        expected = reference(events, experiment, source)
        assert_rows_equal(result, expected)
    # The filters kept something and dropped something: the text matched, and only the text.
    kept = metric_rows(events, experiment, source)
    everything = metric_rows(events, with_filters(experiment, []), source)
    exposed = kept.loc[kept["metric_id"] == "@exposure", "n"].sum()
    assert 0 < exposed < everything.loc[everything["metric_id"] == "@exposure", "n"].sum()
    assert engine.raw(fingerprint_query("events")) == before


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_text_in_an_expression_is_rejected_or_kept_exactly(case: str) -> None:
    """As a goal, dimension or unit type name, or a filter value: the parser refuses the text, or
    (``50%_off`` is a valid value) keeps it exactly, to become a literal node."""
    text = HOSTILE[case]
    places = {
        f"count(user.unit.{text})": lambda goal: goal.goal,
        f"count(user.unit.click({text}=x))": lambda goal: goal.dimensions[0].name,
        f"count(user.unit.click(product={text}))": lambda goal: goal.dimensions[0].values[0],
        f"count(user.unit.click(product=^{text}))": lambda goal: goal.dimensions[0].values[0],
        f"count({text}.unit.click)": lambda goal: goal.unit_type,
    }
    for expression, part in places.items():
        metric = {"id": 1, "name": "m", "nominator": expression, "denominator": "count(user.global.exposure)"}
        data = {"id": "e", "control_variant": "a", "unit_type": "user", "metrics": [metric]}
        try:
            experiment = validate_experiment(data)
        except ExpressionError:
            continue
        assert part(experiment.metrics[0].nominator_expr) == text


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_dimension_name_the_engine_would_cut_is_refused(engine: Engine) -> None:
    """PostgreSQL keeps 63 bytes of a name: a 64-byte dimension came back as another column."""
    events = generate_events(7, experiments=1, units=10)
    longest, too_long = "d" * 63, "d" * 63 + "x"
    events[longest] = events[too_long] = events["product"]
    if engine.name == "postgres":  # cut to 63 bytes, the two names collide: the table refuses them
        events = events.drop(columns=[too_long])
    engine.load(events, "events")
    for name in (longest, too_long):
        experiment = Experiment(
            id="exp-1",
            control_variant="a",
            unit_type="user",
            metrics=[
                {
                    "id": 1,
                    "name": "m",
                    "nominator": f"count(user.unit.click({name}=p_1))",
                    "denominator": "count(user.global.exposure)",
                }
            ],
        )
        if engine.name == "postgres" and name == too_long:
            with pytest.raises(
                ExperimentError, match=rf"^dimension '{name}' is 64 bytes long; postgres keeps at most 63"
            ):
                compile_sql(experiment, dialect=engine.name, rows="goals")
            continue
        rows = engine.dao.execute(compile_sql(experiment, dialect=engine.name, rows="goals"))
        assert name in rows.columns
        assert_rows_equal(rows, goal_rows(events, experiment))
