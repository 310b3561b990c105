"""Attribution windows: when an event counts for a unit, relative to its first exposure.

The exposures-and-events layout (:mod:`expsql.compiler.layouts.exposures`) counts an event from
``t0 + delay`` to ``t0 + delay + window``; an experiment sets both, and a metric or a check may set
its own. Hours are kept as whole seconds, the precision timestamps are compared at.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from pydantic import Field


@dataclass(frozen=True, slots=True)
class AttributionWindow:
    """When an event counts for a unit, relative to its first exposure ``t0`` (exposures layout):
    from ``t0 + delay`` (inclusive) to ``t0 + delay + length`` (exclusive; ``None``: no end)."""

    delay_seconds: int = 0
    length_seconds: int | None = None

    @property
    def end_seconds(self) -> int | None:
        """Seconds from the first exposure to the window's end (``None``: no end)."""
        return None if self.length_seconds is None else self.delay_seconds + self.length_seconds

    def __str__(self) -> str:
        end = "" if self.length_seconds is None else f", for {_hours(self.length_seconds)} h"
        return f"from {_hours(self.delay_seconds)} h after the first exposure{end}"


def _hours(seconds: int) -> str:
    return format(Decimal(seconds) / 3600, "f").rstrip("0").rstrip(".") if seconds else "0"


def whole_seconds(hours: float, field: str) -> int:
    """Whole seconds of a number of hours: a window is compared with timestamps to the second."""
    seconds = Decimal(repr(hours)) * 3600
    if seconds != seconds.to_integral_value():
        raise ValueError(f"{field} {hours} h is not a whole number of seconds")
    return int(seconds)


#: A metric's or a check's own attribution window, field by field; ``None`` inherits the experiment's.
DelayOverride = Annotated[
    float | None,
    Field(
        ge=0,
        description="Exposures layout: an event counts from this many hours after the unit's first "
        "exposure (default: the experiment's).",
    ),
]
WindowOverride = Annotated[
    float | None,
    Field(
        gt=0,
        description="Exposures layout: an event counts for this many hours after the delay "
        "(default: the experiment's).",
    ),
]
#: A window's fields on the experiment, a metric or a check; on metrics and checks ``None`` inherits.
DELAY_FIELD = "conversion_delay_hours"
LENGTH_FIELD = "conversion_window_hours"
