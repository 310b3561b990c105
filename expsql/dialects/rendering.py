"""Rendering large trees quickly: sqlglot's per-SELECT rewrites skipped where they cannot apply.

Most of sqlglot's dialects rewrite every SELECT before generating it (Snowflake runs seven
rewrites: ``UNNEST`` aliases, ``DISTINCT ON``, semi joins, ...), and each rewrite builds the
scope of the SELECT's whole subtree. expsql's query is one SELECT holding every CTE, so on a
1,000-metric query those rewrites were most of the compile time (measured, metric rows,
rendering alone: Snowflake 0.67 s, BigQuery 0.47 s, Spark 0.36 s; DuckDB, which has none that
matter, 0.12 s), for rewrites of constructs the compiler never builds.

:func:`fast_generator` gives a dialect's generator without those rewrites when every one of them
is one this module knows (:data:`KNOWN_SELECT_REWRITES`), one of them walks the tree (checking
the tree costs a walk too: DuckDB's and PostgreSQL's rewrites only read the SELECT's clauses) and
the tree holds none of the constructs they rewrite (:func:`needs_select_rewrites`); otherwise
``None``, and the dialect's own generator renders the tree. A dialect with a rewrite of its own (a
plugin's) thus keeps it.
``tests/dialects/test_rendering.py`` renders every golden query both ways and finds the same text.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.generator import Generator

#: sqlglot's SELECT rewrites (``module:qualname``) that change nothing in a tree without the
#: constructs :func:`needs_select_rewrites` looks for. Those that read only the SELECT's own
#: clauses cost nothing; the others walk or scope the SELECT's whole subtree.
CLAUSE_REWRITES = frozenset(
    {
        "sqlglot.transforms:eliminate_window_clause",
        "sqlglot.transforms:eliminate_distinct_on",
        "sqlglot.transforms:eliminate_semi_and_anti_joins",
        "sqlglot.transforms:eliminate_qualify",
        "sqlglot.generators.duckdb:connect_by_to_recursive_cte",
        "sqlglot.generators.duckdb:_seq_to_range_in_generator",
        "sqlglot.generators.bigquery:_alias_ordered_group",
    }
)
TREE_REWRITES = frozenset(
    {
        "sqlglot.transforms:explode_projection_to_unnest.<locals>._explode_projection_to_unnest",
        "sqlglot.transforms:unqualify_unnest",
        "sqlglot.transforms:unnest_to_explode",
        "sqlglot.transforms:any_to_exists",
        "sqlglot.transforms:unnest_generate_date_array_using_recursive_cte",
        "sqlglot.generators.presto:amend_exploded_column_table",
        "sqlglot.generators.snowflake:_transform_generate_date_array",
        "sqlglot.generators.snowflake:_qualify_unnested_columns",
        "sqlglot.generators.snowflake:_eliminate_dot_variant_lookup",
        "sqlglot.generators.bigquery:_unnest_explode_generate_series",
    }
)
KNOWN_SELECT_REWRITES = CLAUSE_REWRITES | TREE_REWRITES

#: Nodes some known rewrite acts on: table functions (``UNNEST``, ``EXPLODE``, generators and
#: series) and ``ANY``. ``VALUES``, also a table function to sqlglot, is none of them.
_REWRITTEN_NODES = (
    exp.Unnest,
    exp.Explode,
    exp.ExplodeOuter,
    exp.Inline,
    exp.Lateral,
    exp.TableFromRows,
    exp.Generator,
    exp.Stack,
    exp.SplitToTable,
    exp.StrtokSplitToTable,
    exp.GenerateSeries,
    exp.GenerateDateArray,
    exp.Any,
)
_SELECT_CLAUSES = ("windows", "qualify", "connect")


def _with_subclasses(*classes: type) -> frozenset[type]:
    found: set[type] = set()
    pending = list(classes)
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.add(cls)
            pending.extend(cls.__subclasses__())
    return frozenset(found)


@cache
def _node_types() -> tuple[frozenset[type], ...]:
    families = (_REWRITTEN_NODES, (exp.Select,), (exp.Distinct,), (exp.Join,))
    return tuple(_with_subclasses(*family) for family in families)


def tree_nodes(tree: exp.Expr) -> Iterator[exp.Expr]:
    """Every node of ``tree``, parents before children, in no particular order among siblings.

    What ``tree.walk()`` yields, in less than half its time (64,000 nodes: 0.04 s against 0.08 s):
    a 1,000-metric query is walked twice per compile (:func:`needs_select_rewrites`, and unlinking
    the rendered tree), and ``walk`` pays a generator per node.
    """
    pending = [tree]
    pop, push = pending.pop, pending.append
    while pending:
        node = pop()
        yield node
        for value in node.args.values():
            if type(value) is list:
                for child in value:
                    if isinstance(child, exp.Expr):
                        push(child)
            elif isinstance(value, exp.Expr):
                push(value)


def needs_select_rewrites(tree: exp.Expr) -> bool:
    """Whether ``tree`` holds a construct some known SELECT rewrite changes."""
    # Exact types looked up in sets: with isinstance, the check of a 1,000-metric tree (64,000
    # nodes) took 0.22 s, as long as rendering its SELECTs; with sets, 0.06 s.
    rewritten, selects, distincts, joins = _node_types()
    for node in tree_nodes(tree):
        kind, args = type(node), node.args
        if (
            kind in rewritten
            or (kind in selects and any(args.get(clause) for clause in _SELECT_CLAUSES))
            or (kind in selects and args.get("group") and args.get("order"))  # BigQuery aliases them
            or (kind in distincts and args.get("on"))
            or (kind in joins and str(args.get("kind") or "").upper() in ("SEMI", "ANTI"))
        ):
            return True
    return False


def fast_generator(dialect: sqlglot.Dialect, tree: exp.Expr) -> type[Generator] | None:
    """The dialect's generator class without its SELECT rewrites, when some of them walk the tree
    and none can change ``tree``; otherwise ``None``: the dialect's own generator renders it."""
    lean = _without_select_rewrites(dialect.generator_class)
    if lean is None or needs_select_rewrites(tree):
        return None
    return lean


def _worth_skipping(rewrites: list[Callable[..., object]]) -> bool:
    """Whether some rewrite walks the tree: skipping only clause checks would not pay for
    :func:`needs_select_rewrites`' own walk (measured: DuckDB and PostgreSQL render 1.3x slower)."""
    return any(_name(rewrite) in TREE_REWRITES for rewrite in rewrites)


@cache
def _without_select_rewrites(generator: type[Generator]) -> type[Generator] | None:
    """``generator`` without its SELECT rewrites; ``None`` when it has none worth skipping or one
    this module does not know."""
    handler = generator.TRANSFORMS.get(exp.Select)
    rewrites = None if handler is None else _rewrites_of(handler)
    if rewrites is None or not all(_name(rewrite) in KNOWN_SELECT_REWRITES for rewrite in rewrites):
        return None
    if not _worth_skipping(rewrites):
        return None
    transforms = {node: h for node, h in generator.TRANSFORMS.items() if node is not exp.Select}
    return type(f"Fast{generator.__name__}", (generator,), {"TRANSFORMS": transforms})


def _rewrites_of(handler: Callable[..., str]) -> list[Callable[..., object]] | None:
    """The rewrites of a ``transforms.preprocess`` handler without its own generator, else None."""
    try:
        captured = inspect.getclosurevars(handler).nonlocals
    except TypeError:
        return None
    rewrites = captured.get("transforms")
    if captured.get("generator") is not None or not isinstance(rewrites, list | tuple):
        return None
    return list(rewrites)


def _name(function: Callable[..., object]) -> str:
    return f"{getattr(function, '__module__', '')}:{getattr(function, '__qualname__', '')}"
