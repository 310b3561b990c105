"""The fast rendering path gives sqlglot's own text, and steps aside wherever a rewrite may apply."""

from __future__ import annotations

from typing import ClassVar

import pytest
import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.snowflake import Snowflake
from sqlglot.generators.snowflake import SnowflakeGenerator

from expsql.compiler import compile_tree
from expsql.dialects import get
from expsql.dialects.rendering import fast_generator, needs_select_rewrites, tree_nodes
from tests.test_golden import BUILT_IN, CASES, _compiles, load_case


@pytest.mark.parametrize("dialect", BUILT_IN)
@pytest.mark.parametrize("case", CASES)
def test_the_fast_path_renders_what_sqlglot_renders(case: str, dialect: str) -> None:
    experiment, source = load_case(case)
    rows = "metrics" if _compiles(case, "metrics") else "goals"
    tree = compile_tree(experiment, rows=rows, source=source, dialect=dialect)
    resolved = get(dialect)
    full = resolved.sqlglot.generate(tree, copy=True, pretty=True)
    assert resolved.render(tree) == full
    assert not needs_select_rewrites(tree)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT x FROM t CROSS JOIN UNNEST(t.xs) AS u(x)",
        "SELECT EXPLODE(xs) FROM t",
        "SELECT DISTINCT ON (a) a, b FROM t",
        "SELECT a FROM t LEFT SEMI JOIN s ON t.a = s.a",
        "SELECT a, ROW_NUMBER() OVER (PARTITION BY b) AS r FROM t QUALIFY r = 1",
        "SELECT a, SUM(b) OVER w FROM t WINDOW w AS (PARTITION BY a)",
        "SELECT a FROM t GROUP BY a ORDER BY a",
        "SELECT * FROM GENERATE_SERIES(1, 3)",
        "WITH c AS (SELECT a FROM t WHERE a = ANY(SELECT b FROM s)) SELECT * FROM c",
    ],
)
def test_a_tree_a_rewrite_may_change_takes_the_full_path(sql: str) -> None:
    tree = sqlglot.parse_one(sql, read="spark" if "EXPLODE" in sql or "SEMI" in sql else "postgres")
    assert needs_select_rewrites(tree)
    assert fast_generator(sqlglot.Dialect.get_or_raise("snowflake"), tree) is None


def test_rewrites_it_does_not_know_keep_the_dialects_generator() -> None:
    def own_rewrite(expression: exp.Expr) -> exp.Expr:
        return expression

    class Generator(SnowflakeGenerator):
        TRANSFORMS: ClassVar = {
            **SnowflakeGenerator.TRANSFORMS,
            exp.Select: transforms.preprocess([transforms.explode_projection_to_unnest(), own_rewrite]),
        }

    class Custom(Snowflake):
        generator_class = Generator

    tree = exp.select("a").from_("t")
    assert fast_generator(Custom(), tree) is None
    assert fast_generator(sqlglot.Dialect.get_or_raise("snowflake"), tree) is not None


@pytest.mark.parametrize("name", ["clickhouse", "duckdb", "postgres"])
def test_a_dialect_whose_rewrites_only_read_clauses_renders_with_its_own_generator(name: str) -> None:
    assert fast_generator(sqlglot.Dialect.get_or_raise(name), exp.select("a").from_("t")) is None


@pytest.mark.parametrize("name", ["snowflake", "bigquery", "redshift", "trino", "spark"])
def test_a_dialect_whose_rewrites_walk_the_tree_skips_them(name: str) -> None:
    assert fast_generator(sqlglot.Dialect.get_or_raise(name), exp.select("a").from_("t")) is not None


def test_tree_nodes_are_the_nodes_walk_finds() -> None:
    experiment, source = load_case(CASES[0])
    tree = compile_tree(experiment, rows="metrics", source=source, dialect="duckdb")
    assert sorted(map(id, tree_nodes(tree))) == sorted(map(id, tree.walk()))
