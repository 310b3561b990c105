"""The AST's canonical text: random trees print to text that parses back to the same tree."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from expsql import parse_expression
from expsql.grammar.ast import BinaryOp, Dimension, Expr, Goal, Negate, Number, goals, walk

NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
GOAL_NAME = st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True)
VALUE = st.from_regex(r"[A-Za-z0-9_\-.%/]([A-Za-z0-9_\-.% /]{0,6}[A-Za-z0-9_\-.%/])?", fullmatch=True)


@st.composite
def dimensions(draw: st.DrawFn) -> tuple[Dimension, ...]:
    names = draw(st.lists(GOAL_NAME, max_size=3, unique=True))
    result = []
    for name in names:
        operator = draw(st.sampled_from(["=", "!=", "<", ">", "<=", ">=", "=^"]))
        count = draw(st.integers(1, 3)) if operator in ("=", "!=", "=^") else 1
        values = tuple(draw(st.lists(VALUE, min_size=count, max_size=count)))
        result.append(Dimension(name, operator, values))  # type: ignore[arg-type]
    return tuple(result)


GOALS = st.builds(
    Goal,
    function=st.sampled_from(["count", "value", "unique"]),
    unit_type=NAME,
    agg_type=st.sampled_from(["unit", "global"]),
    goal=GOAL_NAME,
    dimensions=dimensions(),
)
NUMBERS = st.builds(
    Number,
    st.one_of(
        st.integers(0, 10**12),
        st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False),
    ),
)
TREES = st.recursive(
    st.one_of(GOALS, NUMBERS),
    lambda children: st.one_of(
        st.builds(BinaryOp, st.sampled_from(["+", "-", "~", "*", "/"]), children, children),
        st.builds(Negate, children),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_random_tree_round_trips_through_its_canonical_text(tree: Expr) -> None:
    assert parse_expression(str(tree)) == tree


@settings(max_examples=100, deadline=None)
@given(TREES)
def test_canonical_text_is_a_fixed_point(tree: Expr) -> None:
    text = str(tree)
    assert str(parse_expression(text)) == text


def test_canonical_text_uses_the_fewest_parentheses() -> None:
    assert str(parse_expression("((1 + 2)) + (3 * (4))")) == "1 + 2 + 3 * 4"
    assert str(parse_expression("1 - (2 + 3)")) == "1 - (2 + 3)"
    assert str(parse_expression("(1 / 2) / (3 / 4)")) == "1 / 2 / (3 / 4)"
    assert str(parse_expression("-(1 + 2) * -3")) == "-(1 + 2) * -3"


def test_decimal_prints_without_exponent() -> None:
    assert str(Number(Decimal("1E+3"))) == "1000"
    assert parse_expression(str(Number(Decimal("0.00001")))) == Number(Decimal("0.00001"))


def test_walk_and_goals_read_left_to_right() -> None:
    tree = parse_expression("count(u.unit.a) + 2 * value(u.unit.b) - unique(u.global.c)")
    assert [g.goal for g in goals(tree)] == ["a", "b", "c"]
    assert sum(isinstance(node, Number) for node in walk(tree)) == 1
