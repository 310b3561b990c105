"""The metric AST: small frozen dataclasses built by :mod:`expsql.grammar.parse`.

Every node keeps the :class:`~expsql.errors.Span` it came from, for error messages; spans do not
take part in equality, so ``parse(str(ast)) == ast`` holds. ``str(node)`` is canonical text with
the fewest parentheses that keep the tree's shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from expsql.errors import Span

Function = Literal["count", "value", "unique"]
AggType = Literal["unit", "global"]
Operator = Literal["=", "!=", "<", ">", "<=", ">=", "=^"]
BinaryOperator = Literal["+", "-", "~", "*", "/"]

FUNCTIONS: tuple[str, ...] = ("count", "value", "unique")
AGG_TYPES: tuple[str, ...] = ("unit", "global")
PRECEDENCE: dict[str, int] = {"+": 1, "-": 1, "~": 1, "*": 2, "/": 2}


@dataclass(frozen=True, slots=True)
class Number:
    """A non-negative literal; negative numbers are a :class:`Negate` of a Number."""

    value: int | Decimal
    span: Span | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return str(self.value) if isinstance(self.value, int) else format(self.value, "f")


@dataclass(frozen=True, slots=True)
class Dimension:
    """One filter on a goal's dimension column: ``product=p_1|p_2``, ``price>=10``, ``el=^btn``."""

    name: str
    operator: Operator
    values: tuple[str, ...]
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        """The dimension column's value in ep-stats' goal rows: ``p_1``, ``>1``, ``!=1``, ``^btn``."""
        text = "|".join(self.values)
        if self.operator == "=":
            return text
        if self.operator == "=^":
            return "^" + text
        return self.operator + text

    def __str__(self) -> str:
        return f"{self.name}{self.operator}{'|'.join(self.values)}"


@dataclass(frozen=True, slots=True)
class GoalKey:
    """A goal with its dimension filters, regardless of the function that reads it."""

    unit_type: str
    agg_type: AggType
    goal: str
    dimensions: tuple[Dimension, ...] = ()

    def __str__(self) -> str:
        dims = f"({', '.join(map(str, self.dimensions))})" if self.dimensions else ""
        return f"{self.unit_type}.{self.agg_type}.{self.goal}{dims}"

    @property
    def dimension_labels(self) -> dict[str, str]:
        return {d.name: d.label for d in self.dimensions}


@dataclass(frozen=True, slots=True)
class Goal:
    """``count|value|unique(unit_type.agg_type.goal[(dimensions)])``."""

    function: Function
    unit_type: str
    agg_type: AggType
    goal: str
    dimensions: tuple[Dimension, ...] = ()
    span: Span | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> GoalKey:
        return GoalKey(self.unit_type, self.agg_type, self.goal, self.dimensions)

    def __str__(self) -> str:
        return f"{self.function}({self.key})"


@dataclass(frozen=True, slots=True)
class BinaryOp:
    """``left op right`` for ``+ - ~ * /``."""

    operator: BinaryOperator
    left: Expr
    right: Expr
    span: Span | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        precedence = PRECEDENCE[self.operator]
        left = _wrap(self.left, needs=_precedence(self.left) < precedence)
        right = _wrap(self.right, needs=_precedence(self.right) <= precedence)
        return f"{left} {self.operator} {right}"


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Expr
    span: Span | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return "-" + _wrap(self.operand, needs=isinstance(self.operand, BinaryOp))


Expr = Number | Goal | BinaryOp | Negate


def _precedence(node: Expr) -> int:
    return PRECEDENCE[node.operator] if isinstance(node, BinaryOp) else 3


def _wrap(node: Expr, *, needs: bool) -> str:
    return f"({node})" if needs else str(node)


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents before children, left before right."""
    stack: list[Expr] = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, BinaryOp):
            stack.extend((current.right, current.left))
        elif isinstance(current, Negate):
            stack.append(current.operand)


def goals(node: Expr) -> list[Goal]:
    """The goal references of an expression, in reading order."""
    return [n for n in walk(node) if isinstance(n, Goal)]
