"""The result of :func:`expsql.evaluate`: small, frozen, typed, one source for every format.

Each part (exposures, metrics, checks) is stored once as a :class:`Table` of read-only columns;
``to_dicts()``, ``to_dict()`` (standard JSON), the DataFrames and ``str()`` all derive from it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from expsql.models import Experiment
from expsql.stats.segment_results import Breakdowns
from expsql.stats.tables import (
    Table,
    aligned,
    chance_text,
    count_text,
    number_text,
    percent_text,
    verdict_text,
)

RenderingKind = Literal["html", "markdown"]
#: How an evaluation renders in a notebook: (its experiment, the evaluation) → HTML or Markdown.
Rendering: TypeAlias = Callable[[Experiment, "Evaluation"], str]
_RENDERINGS: dict[RenderingKind, Rendering] = {}


def attach_rendering(kind: RenderingKind, rendering: Rendering) -> None:
    """Let notebooks show every :class:`Evaluation` through ``rendering``.

    The numbers sit below the pictures: :mod:`expsql.report` attaches its HTML fragment and
    Markdown tables from above (:func:`expsql.report.notebook.attach_renderings`, which
    ``import expsql`` calls when :func:`expsql.evaluate` is first used), and this module never
    imports the report.
    """
    _RENDERINGS[kind] = rendering


@dataclass(frozen=True)
class Evaluation:
    """Exposures, metrics and checks of one experiment, with the options that produced them."""

    experiment_id: str
    contract: str
    control_variant: str
    variants: tuple[str, ...]
    confidence_level: float
    correction: str
    sequential: str
    exposure_table: Table = field(repr=False)
    metric_table: Table = field(repr=False)
    check_table: Table = field(repr=False)
    warnings: tuple[str, ...] = ()
    #: The evaluated experiment (metric order, names, dates), for the rich notebook renderings.
    experiment: Experiment | None = field(default=None, repr=False, compare=False)
    #: One result per segment of each breakdown dimension (``None`` without a breakdown); the
    #: tables above are the overall result.
    breakdowns: Breakdowns | None = field(default=None, repr=False)

    def with_breakdowns(self, breakdowns: Breakdowns, experiment: Experiment) -> Evaluation:
        """This overall result with the per-segment results of ``experiment``'s breakdown."""
        return replace(self, breakdowns=breakdowns, experiment=experiment)

    #: ``timeline: daily``: each day's look (:mod:`expsql.stats.timeline`); ``None`` without one.
    timeline_table: Table | None = field(default=None, repr=False)
    #: How the results were read (:mod:`expsql.stats.readouts`): ``frequentist`` or ``bayesian``.
    inference: str = "frequentist"
    #: Bayesian: the Gaussian prior on the relative effect, ``{mean, variance, proper}``.
    prior: Mapping[str, Any] = field(
        default_factory=lambda: {"mean": 0.0, "variance": 1.0, "proper": False}, repr=False
    )
    #: ``sequential: always-valid``: the total sample size where the confidence sequence is tightest.
    sequential_tuning: float = field(default=5000.0, repr=False)
    #: Bayesian: the chance to win above which a treatment won (below 1 − it, lost).
    decision_threshold: float = field(default=0.95, repr=False)

    @property
    def bayesian(self) -> bool:
        return self.inference == "bayesian"

    @property
    def timeline(self) -> pd.DataFrame | None:
        """One row per day × metric × variant, each day evaluated as that day's sequential look:
        ``day, look, metric_id, metric_name, exp_variant_id, count, mean, diff, ci_lower, ci_upper,
        p_value, confidence_level, significant, chance_to_win`` (NaN under frequentist inference);
        ``None`` without ``timeline``."""
        return None if self.timeline_table is None else self.timeline_table.to_pandas()

    @property
    def exposures(self) -> pd.DataFrame:
        """``exp_variant_id, exposures, exp_id`` (ep-stats' columns)."""
        return self.exposure_table.to_pandas()

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per metric × variant, ep-stats' columns then ``absolute_diff, ci_lower, ci_upper,
        significant, cuped, variance_reduction`` (:mod:`expsql.stats.cuped`) and ``chance_to_win,
        risk_control, risk_treatment`` (Bayesian inference, NaN under frequentist;
        :mod:`expsql.stats.readouts`)."""
        return self.metric_table.to_pandas()

    @property
    def checks(self) -> pd.DataFrame:
        """ep-stats' long format ``check_id, check_name, variable_id, value`` plus ``passed``."""
        return self.check_table.to_pandas()

    def to_pandas(self) -> pd.DataFrame:
        """The metrics table (the scorecard) as a DataFrame."""
        return self.metrics

    def to_dicts(self) -> dict[str, Any]:
        """Every part as a list of row dicts, values as Python objects (NaN stays NaN); the
        ``breakdowns`` and the ``timeline`` too when there are."""
        parts: dict[str, Any] = {
            "exposures": self.exposure_table.to_dicts(),
            "metrics": self.metric_table.to_dicts(),
            "checks": self.check_table.to_dicts(),
        }
        if self.breakdowns is not None:
            parts["breakdowns"] = self.breakdowns.to_dicts()
        if self.timeline_table is not None:
            parts["timeline"] = self.timeline_table.to_dicts()
        return parts

    def to_dict(self) -> dict[str, Any]:
        """Standard JSON: the options and every part, NaN and ±inf as ``None``."""
        header = {
            "id": self.experiment_id,
            "contract": self.contract,
            "control_variant": self.control_variant,
            "variants": list(self.variants),
            "confidence_level": self.confidence_level,
            "correction": self.correction,
            "sequential": self.sequential,
            "inference": self.inference,
            "prior": dict(self.prior),
            "sequential_tuning": self.sequential_tuning,
            "decision_threshold": self.decision_threshold,
            "warnings": list(self.warnings),
        }
        return _json_safe({**header, **self.to_dicts()})

    def __str__(self) -> str:
        return "\n".join(self._lines())

    def _repr_html_(self) -> str | None:
        """The HTML report's summary, tables and forest plots, for Jupyter (no page, no SQL).

        ``None`` (Jupyter then shows ``str()``) for an evaluation built without its experiment,
        or before :mod:`expsql.report` attached its renderings (:func:`attach_rendering`).
        """
        return self._rendered("html")

    def _repr_markdown_(self) -> str | None:
        """The scorecard as Markdown tables; ``None`` as for :meth:`_repr_html_`."""
        return self._rendered("markdown")

    def _rendered(self, kind: RenderingKind) -> str | None:
        rendering = _RENDERINGS.get(kind)
        if self.experiment is None or rendering is None:
            return None
        return rendering(self.experiment, self)

    def _lines(self) -> Iterator[str]:
        if self.bayesian:
            prior = self.prior
            described = (
                f"prior N({prior['mean']:.4g}, {prior['variance']:.4g})" if prior["proper"] else "flat prior"
            )
            yield (
                f"Experiment {self.experiment_id} ({self.contract}): Bayesian, {described}, credible "
                f"level {self.confidence_level:.4g}, decision threshold {self.decision_threshold:.4g} "
                "(no multiple-comparison correction)"
            )
        else:
            yield (
                f"Experiment {self.experiment_id} ({self.contract}): confidence level "
                f"{self.confidence_level:.4g}, correction {self.correction}, sequential {self.sequential}"
            )
        exposures = self.exposure_table.to_dicts()
        yield "Exposures: " + ", ".join(
            f"{row['exp_variant_id']} {count_text(row['exposures'])}" for row in exposures
        )
        yield ""
        metric_rows = self.metric_table.to_dicts()
        cuped = any(row.get("cuped") for row in metric_rows)
        header: tuple[str, ...] = ("metric", "variant", "mean", "diff", "CI of diff", "p-value", "")
        if self.bayesian:
            header = ("metric", "variant", "mean", "diff", "credible interval", "chance to win", "risk", "")
        header += ("CUPED",) if cuped else ()
        rows = [header]
        previous = None
        for row in metric_rows:
            name = row["metric_name"] if row["metric_id"] != previous else ""
            previous = row["metric_id"]
            is_control = row["exp_variant_id"] == self.control_variant
            variant = f"{row['exp_variant_id']} (control)" if is_control else str(row["exp_variant_id"])
            reduction = (f"{-row['variance_reduction']:+.1%} var" if row["cuped"] else "",) if cuped else ()
            if is_control:
                blanks = ("",) * (len(header) - len(reduction) - 3)
                rows.append((name, variant, number_text(row["mean"]), *blanks, *reduction))
                continue
            interval = f"[{percent_text(row['ci_lower'])}, {percent_text(row['ci_upper'])}]"
            mark = "significant" if row["significant"] else ""
            if self.bayesian:
                rows.append(
                    (
                        name,
                        variant,
                        number_text(row["mean"]),
                        percent_text(row["diff"]),
                        interval,
                        chance_text(row["chance_to_win"]),
                        percent_text(row["risk_treatment"]),
                        verdict_text(row["chance_to_win"], self.decision_threshold),
                        *reduction,
                    )
                )
                continue
            rows.append(
                (
                    name,
                    variant,
                    number_text(row["mean"]),
                    percent_text(row["diff"]),
                    interval,
                    number_text(row["p_value"]),
                    mark,
                    *reduction,
                )
            )
        yield from aligned(rows, right=(2, 3, 4, 5, 6, 8) if self.bayesian else (2, 3, 4, 5, 7))
        if cuped:
            yield (
                "CUPED: means adjusted by their pre-exposure values; the CUPED column is the change in "
                "the variance of the mean; each treatment is compared with the control adjusted in its "
                "own comparison (mean − absolute_diff)."
            )
        checks = self.check_table.to_dicts()
        if checks:
            yield ""
            yield "Checks:"
            by_check: dict[Any, list[dict[str, Any]]] = {}
            for row in checks:
                by_check.setdefault(row["check_id"], []).append(row)
            for check_rows in by_check.values():
                values = ", ".join(f"{r['variable_id']} {number_text(r['value'])}" for r in check_rows)
                verdict = {True: "passed", False: "FAILED"}.get(check_rows[0]["passed"], "undecided")
                yield f"  {check_rows[0]['check_name']}: {verdict} ({values})"
        if self.breakdowns is not None:
            threshold = self.decision_threshold if self.bayesian else None
            yield from self.breakdowns.lines(self.control_variant, decision_threshold=threshold)
        for message in self.warnings:
            yield f"warning: {message}"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
