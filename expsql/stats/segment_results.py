"""The per-segment results of a breakdown (:class:`Breakdowns`), as an evaluation carries them;
:mod:`.breakdowns` computes them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from expsql.stats.tables import Table, aligned, chance_text, number_text, percent_text, verdict_text

#: The key columns a breakdown's tables put first.
SEGMENT_KEYS: tuple[str, ...] = ("dimension", "segment")


@dataclass(frozen=True)
class Breakdowns:
    """The per-segment results: each table is the overall one's with ``dimension, segment`` first."""

    dimensions: tuple[str, ...]
    top: int
    correction: str
    exposure_table: Table = field(repr=False)
    metric_table: Table = field(repr=False)
    check_table: Table = field(repr=False)
    #: Warnings of the segments' evaluations, each prefixed with its segment.
    warnings: tuple[str, ...] = ()
    #: ``timeline: daily``: each segment's daily looks, ``dimension, segment`` then the timeline's
    #: columns (:data:`expsql.stats.timeline.TIMELINE_COLUMNS`); ``None`` without a timeline.
    timeline_table: Table | None = field(default=None, repr=False)

    @property
    def exposures(self) -> pd.DataFrame:
        return self.exposure_table.to_pandas()

    @property
    def metrics(self) -> pd.DataFrame:
        return self.metric_table.to_pandas()

    @property
    def checks(self) -> pd.DataFrame:
        return self.check_table.to_pandas()

    @property
    def timeline(self) -> pd.DataFrame | None:
        """Each segment's daily looks; ``None`` without ``timeline``."""
        return None if self.timeline_table is None else self.timeline_table.to_pandas()

    def segments(self, dimension: str) -> list[str]:
        """The evaluated segments of ``dimension``, largest first, ``(other)`` last."""
        exposures = self.exposure_table.to_dicts()
        return list(dict.fromkeys(r["segment"] for r in exposures if r["dimension"] == dimension))

    def lines(self, control_variant: str, *, decision_threshold: float | None = None) -> Iterator[str]:
        """Per dimension, one line per metric, segment and treatment variant (``str()`` of the
        evaluation); with a ``decision_threshold`` (Bayesian), the chance to win where the p-value
        would be, won or lost, no correction."""
        bayesian = decision_threshold is not None
        for dimension in self.dimensions:
            yield ""
            within = "across segments" if self.correction == "segments" else "within each segment"
            yield f"By {dimension} (no correction):" if bayesian else f"By {dimension} (correction {within}):"
            tested = ("credible interval", "chance to win") if bayesian else ("CI of diff", "p-value")
            header = ("metric", "segment", "variant", "count", "diff", *tested, "")
            rows: list[tuple[str, ...]] = [header]
            for row in self.metric_table.to_dicts():
                if row["dimension"] != dimension or row["exp_variant_id"] == control_variant:
                    continue
                interval = f"[{percent_text(row['ci_lower'])}, {percent_text(row['ci_upper'])}]"
                if decision_threshold is not None:
                    verdict = verdict_text(row["chance_to_win"], decision_threshold)
                else:
                    verdict = "significant" if row["significant"] else ""
                rows.append(
                    (
                        str(row["metric_name"]),
                        str(row["segment"]),
                        str(row["exp_variant_id"]),
                        number_text(row["count"]),
                        percent_text(row["diff"]),
                        interval,
                        chance_text(row["chance_to_win"]) if bayesian else number_text(row["p_value"]),
                        verdict,
                    )
                )
            yield from aligned(rows, right=(3, 4, 5, 6))

    def to_dicts(self) -> dict[str, Any]:
        return {
            "dimensions": list(self.dimensions),
            "top": self.top,
            "correction": self.correction,
            "exposures": self.exposure_table.to_dicts(),
            "metrics": self.metric_table.to_dicts(),
            "checks": self.check_table.to_dicts(),
            "warnings": list(self.warnings),
        } | ({} if self.timeline_table is None else {"timeline": self.timeline_table.to_dicts()})
