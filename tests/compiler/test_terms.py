"""Goal terms: which terms can never match one event, and the layers they are grouped into."""

from __future__ import annotations

import pytest

from expsql.compiler.terms import MAX_LAYER_TRIES, disjoint, layer_terms
from expsql.grammar.ast import GoalKey
from expsql.grammar.parse import parse_expression

TYPES = {"product": "string", "price": "integer", "score": "float", "flag": "boolean", "day": "date"}


def key(text: str) -> GoalKey:
    """The goal key of ``count(<text>)``: ``key("user.unit.click(product=p_1)")``."""
    return parse_expression(f"count({text})").key  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("user.unit.click", "user.unit.view", True),
        ("user.unit.click", "session.unit.click", True),
        ("user.unit.click", "user.global.click", True),
        ("user.unit.click", "user.unit.click(product=p_1)", False),
        ("user.unit.click(product=p_1)", "user.unit.click(product=p_2)", True),
        ("user.unit.click(product=p_1|p_2)", "user.unit.click(product=p_2)", False),
        ("user.unit.click(product=p_1)", "user.unit.click(product!=p_1)", True),
        ("user.unit.click(product=p_1)", "user.unit.click(product!=p_2)", False),
        ("user.unit.click(product=p_1)", "user.unit.click(product=^p_)", False),
        ("user.unit.click(product=q_1)", "user.unit.click(product=^p)", True),
        ("user.unit.click(product=^p_)", "user.unit.click(product=^p_1)", False),
        ("user.unit.click(product=^p)", "user.unit.click(product=^q)", True),
        ("user.unit.click(price<5)", "user.unit.click(price>=5)", True),
        ("user.unit.click(price<=5)", "user.unit.click(price>=5)", False),
        ("user.unit.click(price>3)", "user.unit.click(price<10)", False),
        ("user.unit.click(price=01)", "user.unit.click(price=1)", False),
        ("user.unit.click(price=4)", "user.unit.click(price>4)", True),
        ("user.unit.click(product=p_1)", "user.unit.click(price=2)", False),
        ("user.unit.click(product<b)", "user.unit.click(product>c)", False),
        ("user.unit.click(product=z)", "user.unit.click(product<b)", False),
        ("user.unit.click(product=p_1, price=2)", "user.unit.click(product=p_2)", True),
    ],
)
def test_disjoint_decides_whether_two_terms_can_match_one_event(
    left: str, right: str, expected: bool
) -> None:
    assert disjoint(key(left), key(right), TYPES) is expected
    assert disjoint(key(right), key(left), TYPES) is expected


def test_disjoint_terms_share_one_layer() -> None:
    terms = [key("user.global.exposure"), *(key(f"user.unit.click(product=p_{i})") for i in range(300))]
    assert layer_terms(terms, TYPES) == (tuple(range(301)),)


def test_overlapping_terms_get_separate_layers() -> None:
    terms = [
        key("user.unit.click(product=p_1)"),
        key("user.unit.click(product=^p_)"),
        key("user.unit.click(product=p_2)"),
        key("user.unit.click"),
    ]
    layers = layer_terms(terms, TYPES)
    assert layers == ((0, 2), (1,), (3,))
    for layer in layers:
        assert all(disjoint(terms[a], terms[b], TYPES) for a in layer for b in layer if a != b)


def test_many_overlapping_terms_stay_correct_with_bounded_search() -> None:
    terms = [key(f"user.unit.click(price>{i})") for i in range(3 * MAX_LAYER_TRIES)]
    layers = layer_terms(terms, TYPES)
    assert sorted(i for layer in layers for i in layer) == list(range(len(terms)))
    assert all(len(layer) == 1 for layer in layers)
