"""Text → AST: the Lark grammar in ``expsql/grammar/metric.lark`` and a Transformer.

Parsing and transforming are two steps (a transformer handed to ``Lark(...)`` would lose the
positions), and every Lark error is translated into :class:`~expsql.errors.ExpressionError`
with the line, the column, a caret and the expected tokens in plain words.

Input is bounded before any recursion can happen: at most :data:`MAX_LENGTH` characters, and at
most :data:`MAX_NESTING` levels of nesting, measured on the parse tree without recursion (each
binary operator, unary minus and pair of parentheses is one level). The LALR parser itself keeps
its own stack, but the Transformer, ``str()`` of the AST and sqlglot's generator all recurse, so
an unbounded ``1+1+...+1`` or ``-----1`` would end in a RecursionError somewhere downstream.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import cache

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)
from lark.tree import Meta

from expsql.errors import ExpressionError, Span
from expsql.grammar.ast import (
    AGG_TYPES,
    FUNCTIONS,
    BinaryOp,
    BinaryOperator,
    Dimension,
    Expr,
    Goal,
    Negate,
    Number,
)

#: What each terminal is called in "expected one of: ..." lists.
TERMINAL_NAMES: dict[str, str] = {
    "FUNC": "count, value or unique",
    "UNIT_TYPE": "a unit type",
    "AGG_TYPE": "unit or global",
    "GOAL": "a goal name",
    "DIMENSION": "a dimension name",
    "OPERATOR": "a dimension operator (= != < > <= >= =^)",
    "VALUE": "a dimension value",
    "NUMBER": "a number",
    "LPAR": "'('",
    "RPAR": "')'",
    "DOT": "'.'",
    "COMMA": "','",
    "VBAR": "'|'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "TILDE": "'~'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "$END": "end of expression",
}
_ORDER = list(TERMINAL_NAMES)
#: The longest expression text accepted, in characters (a 500-value dimension list fits).
MAX_LENGTH = 10_000
#: The deepest nesting accepted: operators, unary minus and parentheses, one level each. Every
#: dialect compiles an expression this deep with a few hundred stack frames to spare.
MAX_NESTING = 100
#: How deep a division may sit inside the divisors of other divisions, as in ``a / (b / (c / d))``.
#: Each level guards its divisor against zero with ``NULLIF(divisor, 0)``, which engines such as
#: DuckDB expand into a ``CASE`` holding the divisor twice: the planner's work doubles per level
#: (measured on DuckDB 2.0: 0.2 s at 10 levels, 40 s at 16), so a deeper one is refused.
MAX_DIVISOR_NESTING = 8
#: Parse-tree nodes that are one level of nesting.
_NESTING_NODES = frozenset({"add", "sub", "tilde", "mul", "div", "neg", "group"})
_BINARY_OPERATORS = {"PLUS", "MINUS", "TILDE", "STAR", "SLASH"}


@cache
def parser(*, strict: bool = False) -> Lark:
    """The LALR parser for one side of a metric, built once."""
    return Lark.open_from_package(
        "expsql.grammar",
        "metric.lark",
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        strict=strict,
    )


def parse_expression(text: str) -> Expr:
    """Parse a metric expression such as ``value(user.unit.conversion) / count(user.global.exposure)``.

    :raises ExpressionError: with the position, a caret and the expected tokens; also for text
        longer than :data:`MAX_LENGTH` characters or nested deeper than :data:`MAX_NESTING`
        levels, naming the bound.
    """
    if not isinstance(text, str):
        raise TypeError(f"an expression is text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression too long: {len(text):,} characters, at most {MAX_LENGTH:,}",
            text=text,
            position=MAX_LENGTH,
            end=len(text),
        )
    try:
        tree = parser().parse(text)
    except UnexpectedInput as error:
        raise _translate(error, text) from None
    _check_nesting(tree, text)
    _check_divisors(tree, text)
    try:
        return _ToAst(text).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, ExpressionError):
            raise error.orig_exc from None
        raise


def _check_nesting(tree: Tree, text: str) -> None:
    """Raise at the first node nested deeper than :data:`MAX_NESTING`, walking with a stack."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _NESTING_NODES:
            depth += 1
            if depth > MAX_NESTING:
                raise ExpressionError(
                    f"expression nests too deeply: more than {MAX_NESTING} levels "
                    "(each operator, unary minus and pair of parentheses is one level)",
                    text=text,
                    position=node.meta.start_pos,
                    end=node.meta.end_pos,
                )
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))


def _check_divisors(tree: Tree, text: str) -> None:
    """Raise at the first divisor nested inside more than :data:`MAX_DIVISOR_NESTING` divisors."""
    stack: list[tuple[Tree, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        operands = [child for child in node.children if isinstance(child, Tree)]
        if node.data != "div":
            stack.extend((operand, depth) for operand in operands)
            continue
        *dividends, divisor = operands
        stack.extend((operand, depth) for operand in dividends)
        if depth + 1 > MAX_DIVISOR_NESTING:
            raise ExpressionError(
                f"divisions nest too deeply inside divisors: more than {MAX_DIVISOR_NESTING} levels "
                "as in a / (b / (c / ...)); compute the inner ratio as a metric of its own",
                text=text,
                position=divisor.meta.start_pos,
                end=divisor.meta.end_pos,
            )
        stack.append((divisor, depth + 1))


def _span(meta: Meta) -> Span:
    return Span(meta.line, meta.column, meta.start_pos, meta.end_pos)


def _token_span(token: Token) -> Span:
    return Span(token.line or 1, token.column or 1, token.start_pos or 0, token.end_pos or 0)


def _binary(operator: BinaryOperator) -> Callable[[_ToAst, Meta, list[Expr]], BinaryOp]:
    """The transformer method of one binary operator (``add = _binary("+")``)."""

    def build(self: _ToAst, meta: Meta, children: list[Expr]) -> BinaryOp:
        left, right = children
        return BinaryOp(operator, left, right, _span(meta))

    return build


@v_args(meta=True)
class _ToAst(Transformer):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def number(self, meta: Meta, children: list[Token]) -> Number:
        (token,) = children
        value: int | Decimal = Decimal(token) if "." in token else int(token)
        return Number(value, _span(meta))

    def group(self, meta: Meta, children: list[Expr]) -> Expr:
        return children[0]

    def neg(self, meta: Meta, children: list[Expr]) -> Negate:
        return Negate(children[0], _span(meta))

    add = _binary("+")
    sub = _binary("-")
    tilde = _binary("~")
    mul = _binary("*")
    div = _binary("/")

    def dimension(self, meta: Meta, children: list[Token]) -> Dimension:
        name, operator, *values = children
        if len(values) > 1 and operator not in ("=", "!=", "=^"):
            raise ExpressionError(
                f"operator {operator} takes a single value, not alternatives",
                text=self.text,
                position=_token_span(values[1]).start - 1,
                end=meta.end_pos,
            )
        return Dimension(str(name), str(operator), tuple(map(str, values)), _span(meta))  # type: ignore[arg-type]

    def dimensions(self, meta: Meta, children: list[Dimension]) -> tuple[Dimension, ...]:
        seen: set[str] = set()
        for dimension in children:
            if dimension.name in seen:
                assert dimension.span is not None
                raise ExpressionError(
                    f"dimension {dimension.name!r} appears twice in one goal",
                    text=self.text,
                    position=dimension.span.start,
                    end=dimension.span.end,
                )
            seen.add(dimension.name)
        return tuple(children)

    def goal(self, meta: Meta, children: list) -> Goal:
        function, unit_type, agg_type, name, *rest = children
        dimensions: tuple[Dimension, ...] = rest[0] if rest else ()
        return Goal(str(function), str(unit_type), str(agg_type), str(name), dimensions, _span(meta))  # type: ignore[arg-type]


def _friendly(expected: set[str] | frozenset[str]) -> tuple[str, ...]:
    known = sorted((t for t in expected if t in TERMINAL_NAMES), key=_ORDER.index)
    return tuple(TERMINAL_NAMES[t] for t in known)


def _word_at(text: str, position: int) -> str:
    end = position
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[position:end]


def _translate(error: UnexpectedInput, text: str) -> ExpressionError:
    if isinstance(error, UnexpectedCharacters):
        # Lark always sets the position of an unexpected character.
        position, allowed = error.pos_in_stream or 0, set(error.allowed or ())
        word = _word_at(text, position)
        if "FUNC" in allowed and word:
            summary = f"unknown function {word!r} (functions are {', '.join(FUNCTIONS)})"
        elif "AGG_TYPE" in allowed and word:
            summary = f"unknown aggregation type {word!r} (use {' or '.join(AGG_TYPES)})"
        elif allowed and allowed <= _BINARY_OPERATORS | {"RPAR"}:
            summary = f"unexpected text {text[position:].strip()!r} after a complete expression"
            allowed |= {"$END"}
        elif "VALUE" in allowed:
            summary = "missing dimension value"
        else:
            summary = f"unexpected character {text[position]!r}"
        end = position + max(1, len(word))
        return ExpressionError(summary, text=text, position=position, end=end, expected=_friendly(allowed))
    if isinstance(error, UnexpectedToken):
        token = error.token
        # ``accepts`` is computed after the pending reductions, so it is the honest list.
        expected = set(error.accepts or error.expected or ())
        if token.type == "$END":
            summary = "empty expression" if not text.strip() else "unexpected end of expression"
            if text.strip() and "RPAR" in expected and text.count("(") > text.count(")"):
                summary = "unbalanced parenthesis: missing ')'"
            return ExpressionError(summary, text=text, position=len(text), expected=_friendly(expected))
        position, end = token.start_pos or 0, token.end_pos or 0
        word = _word_at(text, position)
        if "FUNC" in expected and word:
            summary = f"unknown function {word!r} (functions are {', '.join(FUNCTIONS)})"
            end = position + len(word)
        elif "AGG_TYPE" in expected and word:
            summary = f"unknown aggregation type {word!r} (use {' or '.join(AGG_TYPES)})"
            end = position + len(word)
        elif "VALUE" in expected:
            summary = "missing dimension value"
        elif "$END" in expected and str(token) == ")":
            summary = "unbalanced parenthesis: ')' without a matching '('"
        elif "$END" in expected:
            summary = f"unexpected text {text[position:].strip()!r} after a complete expression"
            end = len(text.rstrip())
        else:
            # The fallback lexer may have glued several tokens into one; name only the first.
            shown = word or text[position]
            summary = f"unexpected {shown!r}"
            end = position + len(shown)
        return ExpressionError(summary, text=text, position=position, end=end, expected=_friendly(expected))
    if isinstance(error, UnexpectedEOF):
        summary = "empty expression" if not text.strip() else "unexpected end of expression"
        return ExpressionError(
            summary, text=text, position=len(text), expected=_friendly(set(error.expected))
        )
    return ExpressionError(str(error), text=text, position=0)
