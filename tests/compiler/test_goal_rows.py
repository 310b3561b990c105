"""Shape of the goal-rows query, read back from the SQL text of every dialect."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql, compile_tree
from expsql.compiler.layouts import plan_query
from expsql.compiler.predicates import LIKE_ESCAPE, dimension_predicate, prefix_match
from expsql.contracts import GOAL_KEYS, GOAL_VALUES
from expsql.dialects import Dialect, available, get
from expsql.dialects.registry import default_registry
from expsql.errors import DialectError, ExperimentError
from expsql.models import Experiment
from expsql.source import Columns, Source

SOURCE = Source(dimensions={"product": "string", "price": "integer"})
EXPOSURE = "count(user.global.exposure)"

#: The dialects that ship with expsql; an installed third-party plugin does not change the goldens.
BUILT_IN = [name for name in available() if default_registry().origin(name) == "built-in"]


def experiment(*nominators: str, **fields: object) -> Experiment:
    definition = {"id": "e", "control_variant": "a", "unit_type": "user", **fields}
    definition["metrics"] = [
        {"id": i, "name": str(i), "nominator": n, "denominator": EXPOSURE} for i, n in enumerate(nominators)
    ]
    return Experiment.model_validate(definition)


def parse_back(sql: str, dialect: str) -> exp.Expression:
    statements = sqlglot.parse(sql, read=get(dialect).sqlglot_dialect)
    assert len(statements) == 1 and statements[0] is not None
    return statements[0]


def tables_named(tree: exp.Expression, name: str) -> list[exp.Table]:
    return [t for t in tree.find_all(exp.Table) if t.name == name]


def scan_of(tree: exp.Expression, table: str = "events") -> exp.Select:
    (scan,) = tables_named(tree, table)
    select = scan.find_ancestor(exp.Select)
    assert select is not None
    return select


@pytest.mark.parametrize("dialect", BUILT_IN)
@pytest.mark.parametrize("metrics", [1, 10, 100])
def test_one_scan_of_the_events_table_however_many_metrics(dialect: str, metrics: int) -> None:
    nominators = [f"value(user.unit.g{i % 7}(product=p_{i}))" for i in range(metrics)]
    tree = parse_back(compile_sql(experiment(*nominators), dialect=dialect, source=SOURCE), dialect)
    assert len(tables_named(tree, "events")) == 1


def test_filters_are_pushed_into_the_scan() -> None:
    definition = experiment(
        "value(user.unit.conversion(product=p_1|p_2))",
        "count(user.unit.click(price>10))",
        date_from="2024-03-01",
        date_to="2024-03-31",
        date_for="2024-03-15",
    )
    where = scan_of(parse_back(compile_sql(definition, source=SOURCE), "duckdb")).args["where"]
    text = where.sql("duckdb")
    assert "\"exp_id\" = 'e'" in text
    assert "\"date\" >= CAST('2024-03-01' AS DATE)" in text
    assert "\"date\" < CAST('2024-03-16' AS DATE)" in text
    assert {literal.this for literal in where.find_all(exp.Literal) if literal.is_string} >= {
        "exposure",
        "conversion",
        "click",
        "p_1",
        "p_2",
    }
    assert any(isinstance(node, exp.GT) for node in where.find_all(exp.GT))


def test_disjoint_terms_need_no_repeated_events() -> None:
    tree = compile_tree(
        experiment("count(user.unit.click(product=p_1))", "count(user.unit.click(product=p_2))")
    )
    assert not list(tree.find_all(exp.Values))
    assert not list(tree.find_all(exp.Join))


def test_overlapping_terms_repeat_events_once_per_layer() -> None:
    tree = compile_tree(
        experiment("count(user.unit.click(product=p_1))", "count(user.unit.click(product=^p_))")
    )
    (layers,) = tree.find_all(exp.Values)
    assert len(layers.expressions) == 2
    (join,) = tree.find_all(exp.Join)
    assert join.args.get("kind", "").upper() == "CROSS" or join.text("kind").upper() == "CROSS"


def _predicate(dimension: str, source: Source = SOURCE, dialect: Dialect | None = None) -> exp.Expression:
    definition = experiment(f"count(user.unit.click({dimension}))")
    plan = plan_query(definition, source)
    (key,) = [k for k in plan.terms if k.dimensions]
    return dimension_predicate(plan, key.dimensions[0], dialect or get("duckdb"))


@pytest.mark.parametrize(
    ("dimension", "sql"),
    [
        ("price>10", '"events"."price" > 10'),
        ("price<=3", '"events"."price" <= 3'),
        ("price=1|2", '"events"."price" IN (1, 2)'),
        ("price!=1|2", 'NOT "events"."price" IN (1, 2)'),
        ("price!=7", '"events"."price" <> 7'),
        ("product>10", '"events"."product" > \'10\''),
        ("product=p%1", '"events"."product" = \'p%1\''),
        ("product=p_1|p_2", "\"events\".\"product\" IN ('p_1', 'p_2')"),
        (
            "product=^p_1|q",
            'STARTS_WITH("events"."product", \'p_1\') OR STARTS_WITH("events"."product", \'q\')',
        ),
    ],
)
def test_dimension_operators_compile_to_typed_predicates(dimension: str, sql: str) -> None:
    assert _predicate(dimension).sql("duckdb") == sql


PREFIXES = ["p_", "100%", "it's", "back\\slash", "a\\%b_", "naïve ü—€", "--;", "'; DROP TABLE x; --"]


@pytest.mark.parametrize("dialect", BUILT_IN)
@pytest.mark.parametrize("prefix", PREFIXES)
def test_prefix_match_keeps_its_value_through_every_dialect(dialect: str, prefix: str) -> None:
    like = Dialect(dialect, get(dialect).sqlglot_dialect, native_prefix_match=False)
    for target in (get(dialect), like):
        node = prefix_match(exp.column("product"), prefix, target)
        tree = parse_back(exp.select(node).sql(get(dialect).sqlglot_dialect), dialect)
        literals = [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]
        if target.native_prefix_match:
            assert prefix in literals
        else:
            escaped = "".join(LIKE_ESCAPE + c if c in "%_\\" else c for c in prefix) + "%"
            assert escaped in literals


@pytest.mark.parametrize("prefix", PREFIXES)
def test_like_prefix_match_matches_exactly_the_prefix_on_duckdb(prefix: str) -> None:
    candidates = [
        prefix,
        prefix + "x",
        prefix[:-1],
        "x" + prefix,
        prefix.replace("%", "a").replace("_", "b"),
        "",
    ]
    like = Dialect("duckdb", "duckdb", native_prefix_match=False)
    connection = duckdb.connect()
    for candidate in candidates:
        query = exp.select(prefix_match(exp.Literal.string(candidate), prefix, like)).sql("duckdb")
        (matched,) = connection.execute(query).fetchone()
        assert matched == candidate.startswith(prefix), (candidate, prefix, query)


def test_output_columns_follow_the_contract() -> None:
    definition = experiment("count(user.unit.click(product=p_1, price>3))")
    tree = compile_tree(definition, source=SOURCE)
    assert tree.named_selects == [*GOAL_KEYS, "product", "price", *GOAL_VALUES]


def test_source_without_agg_type_column_never_reads_it() -> None:
    source = Source(columns=Columns(agg_type=None, goal="event_name"), table="warehouse.analytics.events")
    tree = parse_back(compile_sql(experiment("count(user.unit.click)"), source=source), "duckdb")
    scan = scan_of(tree)
    assert "agg_type" not in {c.name for c in scan.find_all(exp.Column)}
    assert "event_name" in {c.name for c in scan.find_all(exp.Column)}
    (table,) = tables_named(tree, "events")
    assert (table.catalog, table.db) == ("warehouse", "analytics")


def _shape(tree: exp.Expression) -> list[str]:
    return [type(node).__name__ for node in tree.walk()]


@pytest.mark.parametrize("rows", ["goals", "metrics"])
@pytest.mark.parametrize("dialect", BUILT_IN)
def test_hostile_names_keep_the_shape_of_the_query(dialect: str, rows: str) -> None:
    nominators = [
        "value(user.unit.conversion(product=^p_, price>3))",
        "count(user.unit.click(product=p_1|p_2))",
    ]
    hostile = "x'; DROP TABLE events; --\\\"`]"
    plain_source = Source(
        table="c.d.t", columns=Columns(exp_id="a", goal="b", value="v"), dimensions=SOURCE.dimensions
    )
    hostile_source = Source(
        table=f"c{hostile}.d{hostile}.t{hostile}",
        columns=Columns(exp_id=f"a{hostile}", goal=f"b{hostile}", value=f"v{hostile}"),
        dimensions=SOURCE.dimensions,
    )
    plain = compile_sql(experiment(*nominators, id="e"), dialect=dialect, rows=rows, source=plain_source)
    odd = compile_sql(
        experiment(*nominators, id=f"e{hostile}"), dialect=dialect, rows=rows, source=hostile_source
    )
    assert _shape(parse_back(plain, dialect)) == _shape(parse_back(odd, dialect))
    (table,) = tables_named(parse_back(odd, dialect), f"t{hostile}")
    assert (table.catalog, table.db) == (f"c{hostile}", f"d{hostile}")


def test_unknown_rows_and_dialects_are_errors() -> None:
    with pytest.raises(ExperimentError, match="unknown rows 'unit'"):
        compile_sql(experiment("count(user.unit.click)"), rows="unit")
    with pytest.raises(DialectError, match="unknown dialect"):
        compile_sql(experiment("count(user.unit.click)"), dialect="duckdbb")
