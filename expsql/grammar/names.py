"""Names as the metric grammar spells them, and ep-stats' goal-name metrics turned into expressions.

A goal, dimension or unit type name in an experiment file is checked with the grammar's own
terminals (never a copy of their patterns). ep-stats' ``SimpleMetric`` and ``SimpleSrmCheck`` name
goals instead of writing expressions; :func:`expand_goal_names` writes the expressions for them.
"""

from __future__ import annotations

import re
from typing import Any

from expsql.grammar.parse import parser


def is_grammar_name(text: str, terminal: str) -> bool:
    """Whether the metric grammar accepts ``text`` as a ``terminal`` (GOAL, DIMENSION, UNIT_TYPE)."""
    return re.fullmatch(parser().get_terminal(terminal).pattern.to_regexp(), text) is not None


def grammar_name(text: str, terminal: str, what: str) -> str:
    """``text`` if the metric grammar accepts it as a ``terminal`` (GOAL, DIMENSION), else an error."""
    if not is_grammar_name(text, terminal):
        raise ValueError(f"{text!r} is not a {what} name (letters, digits and '_', as in metric expressions)")
    return text


#: ep-stats' ``SimpleMetric`` arguments that only format its result for display (ep-stats' evaluation
#: never reads them): a goal-name metric may carry them, and they are dropped.
SIMPLE_METRIC_DISPLAY_KEYS = ("metric_format", "metric_value_multiplier")


def expand_goal_names(data: Any) -> Any:
    """ep-stats' goal-name metrics and checks as expressions, for wide rows (semantics §2.3).

    A metric given as ``{id, name, numerator: bookings, denominator: views}`` (ep-stats'
    ``SimpleMetric`` field names) becomes ``value(<unit_type>.global.bookings) /
    value(<unit_type>.global.views)``; a check whose ``denominator`` (or ``nominator``) is a bare
    goal name (``SimpleSrmCheck``) reads ``value(<unit_type>.global.<name>)`` likewise. Everything
    else is returned unchanged.
    """
    if not isinstance(data, dict):
        return data
    unit_type = data.get("unit_type")
    if not isinstance(unit_type, str) or not is_grammar_name(unit_type, "UNIT_TYPE"):
        return data  # the field validators report a missing or bad unit_type
    expanded = dict(data)
    if isinstance(data.get("metrics"), list):
        expanded["metrics"] = [_goal_name_metric(m, unit_type) for m in data["metrics"]]
    if isinstance(data.get("checks"), list):
        expanded["checks"] = [_goal_name_check(c, unit_type) for c in data["checks"]]
    return expanded


def _goal_name_metric(metric: Any, unit_type: str) -> Any:
    if not isinstance(metric, dict) or "numerator" not in metric:
        return metric
    label = f"metric {metric.get('id', '?')}"
    if "nominator" in metric:
        raise ValueError(f"{label}: give either numerator and denominator goal names or a nominator")
    if "denominator" not in metric:
        raise ValueError(f"{label}: a goal-name metric needs a denominator goal name")
    own_unit_type = metric.get("unit_type", unit_type)
    if not isinstance(own_unit_type, str) or not is_grammar_name(own_unit_type, "UNIT_TYPE"):
        raise ValueError(f"{label}: unit_type {own_unit_type!r} must be a name of letters, digits and '_'")
    dropped = ("numerator", "unit_type", *SIMPLE_METRIC_DISPLAY_KEYS)
    expanded = {k: v for k, v in metric.items() if k not in dropped}
    expanded["nominator"] = _goal_value(metric["numerator"], own_unit_type, f"{label} numerator")
    expanded["denominator"] = _goal_value(metric["denominator"], own_unit_type, f"{label} denominator")
    return expanded


def _goal_name_check(check: Any, unit_type: str) -> Any:
    if not isinstance(check, dict):
        return check
    expanded = dict(check)
    for side in ("nominator", "denominator"):
        text = check.get(side)
        if isinstance(text, str) and is_grammar_name(text.strip(), "GOAL") and not text.strip().isdigit():
            expanded[side] = _goal_value(text, unit_type, f"check {check.get('id', '?')} {side}")
    return expanded


def _goal_value(name: Any, unit_type: str, context: str) -> str:
    if not isinstance(name, str) or not is_grammar_name(name.strip(), "GOAL"):
        raise ValueError(
            f"{context}: {name!r} is not a goal name (letters, digits and '_'); "
            "write an expression in nominator/denominator instead of numerator"
        )
    return f"value({unit_type}.global.{name.strip()})"
