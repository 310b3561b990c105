"""Metrics, checks and filters of an experiment.

Expressions are parsed when a model is built: a bad one fails there, with the metric or check id
and the field in the message.

Filters (ep-stats' ``Filter``, which ep-stats itself leaves to the DAO) restrict the data an
experiment is evaluated on. An *exposure event* is an event of the experiment's unit type whose
goal is ``exposure`` (any aggregation type); a *unit* is a (variant, unit id) pair. Each filter
keeps an event or a unit when its ``dimension`` column holds one of its ``value`` list (a NULL
cell never does):

- ``goal``: an event of any goal other than the exposure counts only if ``dimension ∈ value``;
  with ``goal`` set, only that goal's events are subject to the filter. Exposure events are never
  touched. Goal filters define which goal events exist, so the unit filters below see only the
  goal events they keep.
- ``exposure``: only units with at least one exposure event (in the date window) whose
  ``dimension ∈ value`` are evaluated; every event of a kept unit counts.
- ``trigger``: only units with at least one event of goal ``goal`` (the experiment's unit type,
  any aggregation type) in the window are evaluated, with ``dimension ∈ value`` when given.

Several filters combine with AND. Values are compared as the column's declared type
(:class:`~expsql.source.Source`): ``10`` on an integer column is the number 10, a value that does
not fit the type is an error when the query is planned.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from expsql.contracts import MULTIPLE_EXPOSURES_CHECK
from expsql.errors import ExpressionError
from expsql.grammar.ast import Expr, goals
from expsql.grammar.names import grammar_name
from expsql.grammar.parse import parse_expression
from expsql.models.keys import KnownKeysOnly
from expsql.windows import (
    DelayOverride,
    WindowOverride,
)

Identifier = int | str


#: A filter value as JSON gives it; pydantic's smart union keeps ``true`` a bool and ``1`` an int.
FilterValue = str | int | float | bool


def _parse(text: str, context: str) -> Expr:
    try:
        expression = parse_expression(text)
    except ExpressionError as error:
        raise error.with_context(context) from None
    return expression


#: Documented in the JSON schema; checked in :meth:`Metric.model_post_init`, whose message names the metric.
_PERCENTILE_RANGE: dict[str, Any] = {"minimum": 0, "exclusiveMaximum": 50}


class Metric(KnownKeysOnly):
    """A metric: ``nominator / denominator``, each a metric expression."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_of = "metric"

    id: Identifier
    name: str
    nominator: str = Field(min_length=1)
    denominator: str = Field(min_length=1)
    minimum_effect: float | None = Field(default=None, gt=0)
    outlier_upper_percentile: float | None = Field(
        default=None,
        description="Winsorize: cap each unit's nominator at this upper percentile of all exposed "
        "units' nominators (1 caps at the 99th percentile); 0 ≤ x < 50. Needs metric rows.",
        json_schema_extra=_PERCENTILE_RANGE,
    )
    outlier_lower_percentile: float | None = Field(
        default=None,
        description="Winsorize: raise each unit's nominator to this lower percentile of all exposed "
        "units' nominators (1 raises to the 1st percentile); 0 ≤ x < 50. Needs metric rows.",
        json_schema_extra=_PERCENTILE_RANGE,
    )
    cuped: bool = Field(
        default=True,
        description="Adjust with the metric's pre-exposure value (CUPED) when the experiment sets "
        "cuped_lookback_days; false opts this metric out.",
    )
    conversion_delay_hours: DelayOverride = None
    conversion_window_hours: WindowOverride = None
    higher_is_better: bool = Field(
        default=True,
        description="false for a metric that improves when it falls (latency, refunds): verdict "
        "colours, chance_to_win, the risks and a one-sided test turn the other way.",
    )
    one_sided: bool = Field(
        default=False,
        description="Test one-sided, in the direction of improvement (frequentist inference).",
    )

    _nominator: Expr = PrivateAttr()
    _denominator: Expr = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._nominator = _parse(self.nominator, f"metric {self.id} nominator")
        self._denominator = _parse(self.denominator, f"metric {self.id} denominator")
        if not goals(self._nominator) and not goals(self._denominator):
            raise ValueError(f"metric {self.id}: neither nominator nor denominator references a goal")
        for side in ("upper", "lower"):
            percentile = getattr(self, f"outlier_{side}_percentile")
            # ``not 0 <= p < 50`` also refuses NaN, which compares false with everything.
            if percentile is not None and not 0 <= percentile < 50:
                raise ValueError(
                    f"metric {self.id}: outlier_{side}_percentile must be at least 0 and below 50, "
                    f"not {percentile}"
                )

    @property
    def winsorized(self) -> bool:
        """Whether the per-unit nominator is capped at a percentile on either side (0 caps nothing)."""
        return bool(self.outlier_upper_percentile or self.outlier_lower_percentile)

    @property
    def winsorizing_quantiles(self) -> tuple[Decimal | None, Decimal | None]:
        """The pooled quantiles the nominator is clipped to, ``(lower, upper)``, ``None`` for no cap.

        As ep-stats: lower ``l / 100``, upper ``1 - u / 100``; decimals, so ``u = 1`` is exactly
        ``0.99`` in the SQL (a float would print ``1 - 0.07`` as ``0.9299999999999999``).
        """
        lower, upper = self.outlier_lower_percentile, self.outlier_upper_percentile
        return (
            Decimal(repr(lower)) / 100 if lower else None,
            1 - Decimal(repr(upper)) / 100 if upper else None,
        )

    @property
    def nominator_expr(self) -> Expr:
        return self._nominator

    @property
    def denominator_expr(self) -> Expr:
        return self._denominator


class Check(KnownKeysOnly):
    """A data-quality check: ``SRM`` on one expression, ``SumRatio`` on two."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_of = "check"

    id: Identifier
    name: str
    type: Literal["SRM", "SumRatio", "MultipleExposures"] = Field(
        default="SRM",
        description="SRM or SumRatio; MultipleExposures is reported by expsql itself for the "
        "exposures layout (its threshold is the experiment's max_multiple_exposures).",
    )
    nominator: str | None = None
    denominator: str = Field(min_length=1)
    confidence_level: float = Field(default=0.999, gt=0, lt=1)
    max_sum_ratio: float = Field(default=0.01, ge=0, le=1)
    conversion_delay_hours: DelayOverride = None
    conversion_window_hours: WindowOverride = None
    higher_is_better: bool = Field(
        default=True,
        description="false for a metric that improves when it falls (latency, refunds): verdict "
        "colours, chance_to_win, the risks and a one-sided test turn the other way.",
    )
    one_sided: bool = Field(
        default=False,
        description="Test one-sided, in the direction of improvement (frequentist inference).",
    )

    _nominator: Expr | None = PrivateAttr(default=None)
    _denominator: Expr = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        if self.type == "MultipleExposures" and self.id != MULTIPLE_EXPOSURES_CHECK:
            raise ValueError(
                f"check {self.id}: MultipleExposures is reported by expsql itself for the exposures "
                "layout; set max_multiple_exposures on the experiment instead of declaring it"
            )
        if self.type == "SumRatio" and not self.nominator:
            raise ValueError(f"check {self.id}: a SumRatio check needs a nominator")
        if self.type == "SumRatio" and self.nominator:
            self._nominator = _parse(self.nominator, f"check {self.id} nominator")
        self._denominator = _parse(self.denominator, f"check {self.id} denominator")
        if not goals(self._denominator):
            raise ValueError(f"check {self.id}: the denominator references no goal")

    @property
    def nominator_expr(self) -> Expr | None:
        return self._nominator

    @property
    def denominator_expr(self) -> Expr:
        return self._denominator


class Filter(KnownKeysOnly):
    """ep-stats' ``Filter``: keep the goal events or the units whose ``dimension`` is in ``value``.

    Scopes and their semantics are in the module docstring. ``trigger`` needs ``goal`` (and takes
    ``dimension`` with ``value`` optionally); ``exposure`` and ``goal`` need ``dimension`` and a
    non-empty ``value``; only ``goal`` and ``trigger`` take a ``goal``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_of = "filter"

    scope: Literal["exposure", "goal", "trigger"] = Field(
        description="goal: drop goal events; exposure: keep units by their exposures; "
        "trigger: keep units that have an event of `goal`."
    )
    dimension: str | None = Field(default=None, description="A dimension column of the events table.")
    value: list[FilterValue] | None = Field(
        default=None, description="Values the dimension must hold (one of them), typed as its column."
    )
    goal: str | None = Field(
        default=None, description="trigger: the goal whose events trigger; goal: only this goal's events."
    )

    @field_validator("dimension")
    @classmethod
    def _dimension_name(cls, value: str | None) -> str | None:
        return None if value is None else grammar_name(value, "DIMENSION", "dimension")

    @field_validator("goal")
    @classmethod
    def _goal_name(cls, value: str | None) -> str | None:
        return None if value is None else grammar_name(value, "GOAL", "goal")

    @model_validator(mode="after")
    def _scope_fields(self) -> Filter:
        if self.scope == "trigger":
            if self.goal is None:
                raise ValueError("a trigger filter needs 'goal', the goal whose events trigger it")
            if (self.dimension is None) != (not self.value):
                raise ValueError("a trigger filter takes 'dimension' and 'value' together, or neither")
            return self
        if self.dimension is None:
            raise ValueError(f"a filter of scope {self.scope!r} needs 'dimension'")
        if not self.value:
            raise ValueError(f"a filter of scope {self.scope!r} needs 'value', a non-empty list")
        if self.scope == "exposure" and self.goal is not None:
            raise ValueError("an exposure filter takes no 'goal' (it applies to exposures)")
        return self
