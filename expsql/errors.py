"""The exceptions expsql raises: one root, one subclass per kind of failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ExpsqlError(Exception):
    """Root of every error expsql raises on purpose."""


@dataclass(frozen=True, slots=True)
class Span:
    """Where a piece of an expression sits in its text (1-based line and column, 0-based offsets)."""

    line: int
    column: int
    start: int
    end: int


class ExpressionError(ExpsqlError, ValueError):
    """A metric expression that cannot be parsed or does not make sense.

    ``str()`` gives a one-line summary, the offending source line, a caret under the spot and
    the tokens that would have been accepted there.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str,
        position: int,
        end: int | None = None,
        expected: tuple[str, ...] = (),
        context: str | None = None,
    ) -> None:
        self.summary = message
        self.text = text
        self.position = max(0, min(position, len(text)))
        self.end = max(self.position, end if end is not None else self.position + 1)
        self.expected = tuple(expected)
        self.context = context
        self.line = text.count("\n", 0, self.position) + 1
        self.column = self.position - (text.rfind("\n", 0, self.position) + 1) + 1
        super().__init__(self._render())

    @property
    def span(self) -> Span:
        return Span(self.line, self.column, self.position, self.end)

    def with_context(self, context: str) -> ExpressionError:
        """The same error, prefixed with where the expression came from (``metric 3 nominator``)."""
        return ExpressionError(
            self.summary,
            text=self.text,
            position=self.position,
            end=self.end,
            expected=self.expected,
            context=context,
        )

    def _render(self) -> str:
        lines = self.text.split("\n")
        source_line = lines[self.line - 1] if lines else ""
        width = max(1, min(self.end - self.position, len(source_line) - self.column + 1))
        where = f"line {self.line}, column {self.column}"
        head = f"{self.context}: " if self.context else ""
        parts = [
            f"{head}{self.summary} at {where}",
            f"  {source_line}",
            "  " + " " * (self.column - 1) + "^" * width,
        ]
        if self.expected:
            parts.append("expected one of: " + ", ".join(self.expected))
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, used as the body of the REST API's 422 answers."""
        return {
            "message": str(self),
            "summary": self.summary,
            "context": self.context,
            "text": self.text,
            "line": self.line,
            "column": self.column,
            "position": self.position,
            "end": self.end,
            "expected": list(self.expected),
        }


class ExperimentError(ExpsqlError, ValueError):
    """An experiment definition that is inconsistent (duplicate ids, missing fields, bad dates)."""


class MetricRowsRequired(ExperimentError):
    """Goal rows asked for an experiment only metric rows can evaluate (a winsorized metric)."""


class TimelineError(MetricRowsRequired):
    """A timeline that cannot be built: no date window, a window longer than the timeline allows,
    or a row contract other than metric rows (:mod:`expsql.timeline_days`)."""


class RowsError(ExpsqlError, ValueError):
    """Rows handed to the stats module that do not fit a row contract."""


class DialectError(ExpsqlError):
    """A dialect that cannot be loaded, registered or used."""


class ConnectorError(ExpsqlError):
    """A warehouse that cannot be reached or refuses the query."""
