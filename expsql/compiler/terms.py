"""Goal terms: their keys, their filter values typed, and their layers of disjoint terms.

A term is a goal with its dimension filters (:class:`~expsql.grammar.ast.GoalKey`), counted in
a metric's own attribution window (:class:`WindowedKey`) or before the exposure (:class:`PreKey`,
CUPED). An event matches at most one term of a layer, so one layer is one ``CASE`` that assigns
an event its term (:mod:`.scan`); overlapping terms (``product=p_1`` and ``product=^p_``) land in
different layers so each counts the event. Deciding disjointness compares the terms' dimension
filters as their columns' types: ``price>10`` and ``price<5`` never meet, ``product=p_1`` and
``product=^p_`` do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from expsql.errors import ExperimentError
from expsql.grammar.ast import Dimension, GoalKey
from expsql.models import AttributionWindow
from expsql.source import DimensionType

TypedValue = str | int | Decimal | bool | dt.date
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
#: What picks a goal's events: (unit type, aggregation type or None when the source has none, goal).
GoalIdentity = tuple[str, str | None, str]


def goal_identity(key: GoalKey, by_agg_type: bool = True) -> GoalIdentity:
    return (key.unit_type, key.agg_type if by_agg_type else None, key.goal)


@dataclass(frozen=True, slots=True)
class WindowedKey(GoalKey):
    """A goal term counted only in its metric's own attribution window (exposures layout, when
    metrics' windows differ): the same goal in another window is another term."""

    window: AttributionWindow | None = None

    def __str__(self) -> str:
        return f"{GoalKey.__str__(self)} {self.window}"


@dataclass(frozen=True, slots=True)
class PreKey(GoalKey):
    """A goal term over the unit's pre-exposure period, ``[t0 - lookback, t0)``: what a CUPED
    covariate reads. No event is both before and after the first exposure, so a pre-exposure term
    is disjoint from every other term."""

    def __str__(self) -> str:
        return f"{GoalKey.__str__(self)} before the first exposure"


def pre_key(key: GoalKey) -> PreKey:
    return PreKey(key.unit_type, key.agg_type, key.goal, key.dimensions)


@lru_cache(maxsize=4096)
def typed_value(text: str, dimension: Dimension, dimension_type: DimensionType) -> TypedValue:
    """A filter's value as its column's type: ``price>10`` compares with the number 10.

    :raises ExperimentError: naming the dimension, the value and the type when they do not fit.
    """
    if dimension.operator == "=^" and dimension_type != "string":
        raise ExperimentError(
            f"dimension {dimension.name!r}: '=^' (starts with) needs a string column, "
            f"but {dimension.name!r} is declared {dimension_type}"
        )
    try:
        # ASCII digits only: Python's int() and Decimal() also take "1_000" and other scripts' digits.
        if dimension_type == "integer":
            if not _INTEGER.fullmatch(text.strip()):
                raise ValueError(text)
            return int(text.strip())
        if dimension_type == "float":
            if not _FLOAT.fullmatch(text.strip()):
                raise ValueError(text)
            return Decimal(text.strip())
        if dimension_type == "boolean":
            return {"true": True, "false": False}[text.strip().lower()]
        if dimension_type == "date":
            return dt.date.fromisoformat(text.strip())
    except (ValueError, KeyError, InvalidOperation):
        raise ExperimentError(
            f"dimension {dimension.name!r}: value {text!r} is not a valid {dimension_type}"
        ) from None
    return text


#: How many existing layers a term tries before it opens its own; a new layer is always correct
#: (only slower to run), and the bound keeps planning linear when many terms overlap.
MAX_LAYER_TRIES = 8


class _Layer:
    """Terms of one goal that no event can match twice, with an index for the common case.

    ``equal_values[name]`` is the union of the ``=`` values on dimension ``name``, kept only while
    every member filters ``name`` with ``=``; a term whose ``=`` values on such a dimension miss
    that union is disjoint from every member without comparing pairs.
    """

    def __init__(self) -> None:
        self.members: list[GoalKey] = []
        self.indexes: list[int] = []
        self.equal_values: dict[str, set[str]] = {}

    def accepts(self, key: GoalKey, types: dict[str, DimensionType], by_agg_type: bool) -> bool:
        for dimension in key.dimensions:
            common = self.equal_values.get(dimension.name)
            # Equal strings are equal values; other types compare as typed values below.
            string = types[dimension.name] == "string"
            if (
                string
                and dimension.operator == "="
                and common is not None
                and common.isdisjoint(dimension.values)
            ):
                return True
        return all(disjoint(key, member, types, by_agg_type) for member in self.members)

    def add(self, index: int, key: GoalKey) -> None:
        equal = {d.name: d.values for d in key.dimensions if d.operator == "="}
        if not self.members:
            self.equal_values = {name: set(values) for name, values in equal.items()}
        else:
            self.equal_values = {
                name: values | set(equal[name]) for name, values in self.equal_values.items() if name in equal
            }
        self.members.append(key)
        self.indexes.append(index)


def layer_terms(
    terms: Sequence[GoalKey], types: dict[str, DimensionType], *, by_agg_type: bool = True
) -> tuple[tuple[int, ...], ...]:
    """Greedy colouring of the overlap graph: each term goes to the first layer it is disjoint with.

    Terms of different (unit type, aggregation type, goal) never overlap, so only terms of one
    goal are compared, and ``product=p_1``, ``product=p_2``, ... are recognised as disjoint in
    constant time each (:class:`_Layer`).
    """
    by_goal: dict[GoalIdentity, list[int]] = {}
    for index, key in enumerate(terms):
        by_goal.setdefault(goal_identity(key, by_agg_type), []).append(index)
    layers: list[list[int]] = []
    for members in by_goal.values():
        goal_layers: list[_Layer] = []
        for index in members:
            key = terms[index]
            tried = goal_layers[-MAX_LAYER_TRIES:]
            home = next((layer for layer in tried if layer.accepts(key, types, by_agg_type)), None)
            if home is None:
                home = _Layer()
                goal_layers.append(home)
            home.add(index, key)
        for depth, layer in enumerate(goal_layers):
            if depth == len(layers):
                layers.append([])
            layers[depth].extend(layer.indexes)
    return tuple(tuple(sorted(layer)) for layer in layers)


def disjoint(a: GoalKey, b: GoalKey, types: dict[str, DimensionType], by_agg_type: bool = True) -> bool:
    """True when no event can match both terms; False when unsure (a safe answer, only slower).

    :param by_agg_type: the source has an ``agg_type`` column, so ``unit`` and ``global`` differ.
    """
    if goal_identity(a, by_agg_type) != goal_identity(b, by_agg_type):
        return True
    if isinstance(a, PreKey) != isinstance(b, PreKey):
        return True
    filters_b = {d.name: d for d in b.dimensions}
    return any(
        d.name in filters_b and _filters_disjoint(d, filters_b[d.name], types[d.name]) for d in a.dimensions
    )


_ORDER_OPERATORS = ("<", "<=", ">", ">=")


def _filters_disjoint(a: Dimension, b: Dimension, dimension_type: DimensionType) -> bool:
    if dimension_type == "string" and (a.operator in _ORDER_OPERATORS or b.operator in _ORDER_OPERATORS):
        return False  # the warehouse's collation orders strings, not Python: do not guess
    if b.operator == "=" and a.operator != "=":
        a, b = b, a
    if a.operator == "=":
        values = [typed_value(v, a, dimension_type) for v in a.values]
        return not any(_matches(value, b, dimension_type) for value in values)
    if a.operator == "=^" and b.operator == "=^":
        return not any(p.startswith(q) or q.startswith(p) for p in a.values for q in b.values)
    ranges = (_interval(a, dimension_type), _interval(b, dimension_type))
    if None in ranges:
        return False
    (low_a, high_a), (low_b, high_b) = ranges  # type: ignore[misc]
    return _below(high_a, low_b) or _below(high_b, low_a)


Bound = tuple[TypedValue, bool] | None  # (value, inclusive); None is unbounded


def _interval(d: Dimension, dimension_type: DimensionType) -> tuple[Bound, Bound] | None:
    if d.operator not in ("<", "<=", ">", ">="):
        return None
    value = typed_value(d.values[0], d, dimension_type)
    inclusive = d.operator.endswith("=")
    return (None, (value, inclusive)) if d.operator.startswith("<") else ((value, inclusive), None)


def _below(high: Bound, low: Bound) -> bool:
    """Every value under ``high`` lies under ``low`` (the two ranges do not meet)."""
    if high is None or low is None:
        return False
    (top, top_inclusive), (bottom, bottom_inclusive) = high, low
    if top == bottom:
        return not (top_inclusive and bottom_inclusive)
    return top < bottom  # type: ignore[operator]


def _matches(value: TypedValue, d: Dimension, dimension_type: DimensionType) -> bool:
    """Whether a filter keeps a (non-NULL) value, evaluated at compile time."""
    if d.operator == "=^":
        return any(str(value).startswith(prefix) for prefix in d.values)
    values = [typed_value(v, d, dimension_type) for v in d.values]
    if d.operator in ("=", "!="):
        return (value in values) == (d.operator == "=")
    (other,) = values
    compare = {"<": value < other, "<=": value <= other, ">": value > other, ">=": value >= other}  # type: ignore[operator]
    return compare[d.operator]
