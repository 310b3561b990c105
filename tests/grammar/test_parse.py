"""The metric language: what parses, to what tree, and how errors point at the spot."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lark import Lark

from expsql import ExpressionError, parse_expression
from expsql.grammar.ast import BinaryOp, Dimension, Goal, Negate, Number
from expsql.grammar.parse import MAX_DIVISOR_NESTING, MAX_LENGTH, MAX_NESTING, parser

EXPOSURE = Goal("count", "user", "global", "exposure")


def goal(function: str, name: str, *dimensions: Dimension, agg: str = "unit", unit: str = "user") -> Goal:
    return Goal(function, unit, agg, name, tuple(dimensions))  # type: ignore[arg-type]


VALID = {
    # DESIGN.md's examples
    "value(user.unit.conversion(product=p_1)) / count(user.global.exposure)": BinaryOp(
        "/", goal("value", "conversion", Dimension("product", "=", ("p_1",))), EXPOSURE
    ),
    "count(user.unit.click) / count(user.unit.view(element=^button-))": BinaryOp(
        "/", goal("count", "click"), goal("count", "view", Dimension("element", "=^", ("button-",)))
    ),
    "value(user.unit.conversion) - value(user.unit.refund)": BinaryOp(
        "-", goal("value", "conversion"), goal("value", "refund")
    ),
    # ep-stats' corpus (semantics §1.1), with digits in the unit type where DESIGN.md allows them
    "unique(test_unit_type.unit.click)": goal("unique", "click", unit="test_unit_type"),
    "count(u1.unit.exposure) / 1000": BinaryOp("/", goal("count", "exposure", unit="u1"), Number(1000)),
    "-1 * count(user.global.conversion)": BinaryOp(
        "*", Negate(Number(1)), goal("count", "conversion", agg="global")
    ),
    "value(user.unit.conversion) ~ value(user.unit.refund)": BinaryOp(
        "~", goal("value", "conversion"), goal("value", "refund")
    ),
    "count(user.unit.view(element=button-1, product=p-1))": goal(
        "count", "view", Dimension("element", "=", ("button-1",)), Dimension("product", "=", ("p-1",))
    ),
    "count(user.unit.view(element=button-%))": goal(
        "count", "view", Dimension("element", "=", ("button-%",))
    ),
    "count(user.global.conversion(x=test, y>=123))": goal(
        "count", "conversion", Dimension("x", "=", ("test",)), Dimension("y", ">=", ("123",)), agg="global"
    ),
    "count(user.unit.conversion(a<=4, b>42))": goal(
        "count", "conversion", Dimension("a", "<=", ("4",)), Dimension("b", ">", ("42",))
    ),
    "count(user.unit.c(x=test, y!=123))": goal(
        "count", "c", Dimension("x", "=", ("test",)), Dimension("y", "!=", ("123",))
    ),
    "count(user.unit.c(x=^test|test, y=^test))": goal(
        "count", "c", Dimension("x", "=^", ("test", "test")), Dimension("y", "=^", ("test",))
    ),
    "count(user.unit.c(x=A/ A|BB, y=X|Y|Z))": goal(
        "count", "c", Dimension("x", "=", ("A/ A", "BB")), Dimension("y", "=", ("X", "Y", "Z"))
    ),
    "count(user.unit.c(x_1=test, x_234=234,))": goal(
        "count", "c", Dimension("x_1", "=", ("test",)), Dimension("x_234", "=", ("234",))
    ),
    "count(user.unit.view(element=^button-1, product>1))": goal(
        "count", "view", Dimension("element", "=^", ("button-1",)), Dimension("product", ">", ("1",))
    ),
    "count(user.unit.a) * 0.5": BinaryOp("*", goal("count", "a"), Number(Decimal("0.5"))),
    "count(user.unit.a)--1": BinaryOp("-", goal("count", "a"), Negate(Number(1))),
    "- (count(user.unit.a) + 2)": Negate(BinaryOp("+", goal("count", "a"), Number(2))),
    "count(user.unit.3d_view)": goal("count", "3d_view"),
    "count(user.unit.a(7day=x))": goal("count", "a", Dimension("7day", "=", ("x",))),
    "  count ( user . unit . a )\n\t/\n 2 ": BinaryOp("/", goal("count", "a"), Number(2)),
}


@pytest.mark.parametrize("text", VALID)
def test_parse_builds_the_expected_tree(text: str) -> None:
    assert parse_expression(text) == VALID[text]


@pytest.mark.parametrize("text", VALID)
def test_canonical_text_parses_back_to_the_same_tree(text: str) -> None:
    tree = parse_expression(text)
    assert parse_expression(str(tree)) == tree


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        # school precedence, left-associative (ep-stats binds / tighter than *: a documented difference)
        ("1 / 2 * 3", BinaryOp("*", BinaryOp("/", Number(1), Number(2)), Number(3))),
        ("1 - 2 + 3", BinaryOp("+", BinaryOp("-", Number(1), Number(2)), Number(3))),
        ("1 - 2 - 3", BinaryOp("-", BinaryOp("-", Number(1), Number(2)), Number(3))),
        ("1 + 2 * 3", BinaryOp("+", Number(1), BinaryOp("*", Number(2), Number(3)))),
        ("1 ~ 2 + 3", BinaryOp("+", BinaryOp("~", Number(1), Number(2)), Number(3))),
        ("1 - (2 - 3)", BinaryOp("-", Number(1), BinaryOp("-", Number(2), Number(3)))),
        ("-2 * 3", BinaryOp("*", Negate(Number(2)), Number(3))),
    ],
)
def test_operators_follow_school_precedence(text: str, tree: object) -> None:
    assert parse_expression(text) == tree


def test_parse_keeps_positions() -> None:
    tree = parse_expression("1 +\n  value(user.unit.conversion)")
    assert isinstance(tree, BinaryOp) and tree.right.span is not None
    assert (tree.right.span.line, tree.right.span.column) == (2, 3)


def test_numbers_are_int_or_decimal_never_float() -> None:
    assert parse_expression("12") == Number(12)
    decimal = parse_expression("0.25")
    assert isinstance(decimal, Number) and decimal.value == Decimal("0.25")
    assert isinstance(parse_expression("3").value, int)  # type: ignore[union-attr]


def test_dimension_label_is_ep_stats_storage_form() -> None:
    labels = {
        "a=p_1": "p_1",
        "a=^button-": "^button-",
        "a>1": ">1",
        "a!=1": "!=1",
        "a<=2": "<=2",
        "a=x|y": "x|y",
    }
    for source, label in labels.items():
        tree = parse_expression(f"count(u.unit.g({source}))")
        assert isinstance(tree, Goal)
        assert tree.dimensions[0].label == label


INVALID = {
    # (text, summary fragment, line, column)
    "sum(user.unit.a)": ("unknown function 'sum'", 1, 1),
    "COUNT(user.unit.a)": ("unknown function 'COUNT'", 1, 1),
    "count(user.Unit.a)": ("unknown aggregation type 'Unit'", 1, 12),
    "count(user.session.a)": ("unknown aggregation type 'session'", 1, 12),
    "count(user.unit.a) foo bar": ("after a complete expression", 1, 20),
    "count(user.unit.a) * 0.5 2": ("after a complete expression", 1, 26),
    "": ("empty expression", 1, 1),
    "   ": ("empty expression", 1, 4),
    "count(user.unit.a(x==b))": ("missing dimension value", 1, 21),
    "count(user.unit.a(x=))": ("missing dimension value", 1, 21),
    "count(user.unit.a(x=1, x=2))": ("dimension 'x' appears twice", 1, 24),
    "(count(user.unit.a)": ("missing ')'", 1, 20),
    "count(user.unit.a))": ("without a matching '('", 1, 19),
    "count(user.unit.a) +": ("unexpected end of expression", 1, 21),
    "count(user.unit.a(x<1|2))": ("takes a single value", 1, 22),
    " / count(user.unit.a)": ("unexpected '/'", 1, 2),
    "count(user.unit.a-b)": ("unexpected '-'", 1, 18),
    "count(user.unit.a(x=abc^def))": ("unexpected character '^'", 1, 24),
    "count(user.unit.a)\n  + foo(user.unit.b)": ("unknown function 'foo'", 2, 5),
}


@pytest.mark.parametrize("text", INVALID)
def test_invalid_expressions_raise_with_position(text: str) -> None:
    fragment, line, column = INVALID[text]
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    error = caught.value
    assert fragment in error.summary
    assert (error.line, error.column) == (line, column)
    assert error.text == text
    assert isinstance(error, ValueError)


def test_error_message_quotes_the_line_with_a_caret_under_the_spot() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("count(user.unit.a) +\n  sum(user.unit.b)")
    lines = str(caught.value).splitlines()
    assert lines[0] == ("unknown function 'sum' (functions are count, value, unique) at line 2, column 3")
    assert lines[1] == "    sum(user.unit.b)"
    assert lines[2] == "    ^^^"
    assert lines[3].startswith("expected one of: count, value or unique, a number")


def test_error_at_end_of_input_points_past_the_last_character() -> None:
    text = "count(user.unit.a) *"
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert caught.value.position == len(text)
    assert str(caught.value).splitlines()[2] == "  " + " " * len(text) + "^"


def test_error_to_dict_is_json_ready() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("count(user.unit.a) foo")
    body = caught.value.to_dict()
    assert body["line"] == 1 and body["column"] == 20
    assert "end of expression" in body["expected"]
    assert body["message"] == str(caught.value)


def test_deep_nesting_is_an_expression_error_not_a_crash() -> None:
    text = "-" * 5000 + "1"
    with pytest.raises(ExpressionError, match="nests too deeply"):
        parse_expression(text)


GOAL = "count(user.unit.a)"
#: Expressions nested exactly ``depth`` levels, one shape per kind of level.
NESTED = {
    "left-associative chain": lambda depth: " + ".join([GOAL] * (depth + 1)),
    "unary minus": lambda depth: "-" * depth + GOAL,
    "parentheses": lambda depth: "(" * depth + GOAL + ")" * depth,
    "right-nested operators": lambda depth: (
        f"{GOAL} * (" * (depth // 2) + "-" * (depth % 2) + GOAL + ")" * (depth // 2)
    ),
}


@pytest.mark.parametrize("shape", NESTED)
def test_nesting_is_accepted_up_to_the_bound_and_rejected_above(shape: str) -> None:
    assert parse_expression(NESTED[shape](MAX_NESTING)) is not None
    text = NESTED[shape](MAX_NESTING + 1)
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    error = caught.value
    assert f"more than {MAX_NESTING} levels" in error.summary and "nests too deeply" in error.summary
    assert 0 <= error.position < len(text)


def divisions_in_divisors(depth: int) -> str:
    return f"{GOAL} / (" * depth + GOAL + ")" * depth


def test_divisions_inside_divisors_are_bounded() -> None:
    assert parse_expression(divisions_in_divisors(MAX_DIVISOR_NESTING)) is not None
    # Divisions side by side or in the dividend do not multiply the divisor: not bounded here.
    assert parse_expression(" / ".join([GOAL] * 40)) is not None
    assert parse_expression(f"{GOAL} / (" + " + ".join([f"{GOAL} / {GOAL}"] * 20) + ")") is not None
    text = divisions_in_divisors(MAX_DIVISOR_NESTING + 1)
    with pytest.raises(ExpressionError, match="divisions nest too deeply inside divisors") as caught:
        parse_expression(text)
    innermost = text.rindex("(" + GOAL)  # the caret spans the innermost divisor, parentheses too
    assert caught.value.position == innermost and caught.value.end == innermost + len(GOAL) + 2


def test_five_thousand_parentheses_are_a_clean_expression_error() -> None:
    for text in ("(" * 5000 + "1" + ")" * 5000, "(" * 4000 + "1" + ")" * 4000, "(" * 5000):
        with pytest.raises(ExpressionError):
            parse_expression(text)


def test_length_is_accepted_up_to_the_bound_and_rejected_above() -> None:
    filler = " " * (MAX_LENGTH - len(GOAL))
    assert parse_expression(GOAL + filler) == parse_expression(GOAL)
    text = GOAL + filler + " "
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    expected = f"expression too long: {MAX_LENGTH + 1:,} characters, at most {MAX_LENGTH:,}"
    assert caught.value.summary == expected
    assert caught.value.position == MAX_LENGTH


def test_non_text_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_expression(42)  # type: ignore[arg-type]


def test_grammar_has_no_conflicts_in_strict_mode() -> None:
    assert isinstance(parser(strict=True), Lark)
