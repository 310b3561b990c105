"""The reference experiments: one or more per compiler feature, each with its expected rows from the
independent pandas oracles (:mod:`expsql.testing.reference` for the attributed layout,
:mod:`expsql.testing.attribution_reference` for exposures and events, segments by
:mod:`expsql.testing.segment_reference`, each timeline day by :mod:`expsql.testing.timeline_reference`),
never from expsql's own SQL.

A :class:`Case` names its feature (:data:`FEATURES`), its layout, its experiment and the row
contracts it is compared in. A new compiler feature adds its name to :data:`FEATURES` and a case
here; a dialect that cannot run it declares the feature unsupported (the kit then checks that
compiling it raises expsql's error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from expsql.models import Experiment
from expsql.testing import attribution_reference, reference, timeline_reference
from expsql.testing.data import attributed_source, exposures_source
from expsql.testing.exposure_events import DATE_FROM, DATE_TO, DELAY_HOURS, WINDOW_HOURS
from expsql.testing.segment_reference import attributed_rows, exposures_rows

#: Which reference tables a case reads: the attributed table, the exposure log with the raw events,
#: or the exposure log with the raw events split in two tables (several events tables).
Layout = Literal["attributed", "exposures", "event tables"]

#: Every feature the kit proves, in report order.
FEATURES = (
    "goal, metric and unit rows",
    "dimension filters",
    "goal filters",
    "exposure filters",
    "trigger filters",
    "date window",
    "exposures layout",
    "attribution window and delay",
    "multiple exposures: exclude",
    "multiple exposures: first",
    "winsorization",
    "CUPED",
    "breakdowns",
    "timeline",
    "several events tables",
    "quantile metrics",
)


@dataclass(frozen=True, eq=False)  # hashed by identity: the kit caches its expected rows per case
class Case:
    """One reference experiment: ``name`` (unique), the ``feature`` it proves, its source ``layout``."""

    name: str
    feature: str
    layout: Layout
    experiment: Experiment

    @property
    def contracts(self) -> tuple[str, ...]:
        """The row contracts it is compared in: metric rows only for a timeline or quantiles; no goal
        rows where the experiment needs metric rows; no unit rows where metrics' windows differ."""
        chosen = self.experiment
        if chosen.timeline is not None or chosen.quantile_metrics():
            return ("metrics",)
        if chosen.needs_metric_rows():
            return ("metrics",) if chosen.windows_differ() else ("metrics", "units")
        return ("goals", "metrics", "units")

    def expected(self, tables: dict[str, pd.DataFrame], contract: str) -> pd.DataFrame:
        """The oracle's rows of ``contract`` on the reference ``tables`` (not for a timeline)."""
        chosen = self.experiment
        if self.layout == "attributed":
            seed: Callable[..., pd.DataFrame] = getattr(reference, f"{_ROWS[contract]}_rows")
            if chosen.breakdown:
                return attributed_rows(seed, tables["attributed"], chosen, attributed_source())
            return seed(tables["attributed"], chosen, attributed_source())
        rows: Callable[..., pd.DataFrame] = getattr(attribution_reference, f"{_ROWS[contract]}_rows")
        if chosen.breakdown:
            return exposures_rows(rows, tables["exposures"], tables["events"], chosen, exposures_source())
        return rows(tables["exposures"], tables["events"], chosen, exposures_source())

    def expected_as_of(self, tables: dict[str, pd.DataFrame], day: dt.date) -> pd.DataFrame:
        """A timeline's oracle: the metric rows of the window cut at the end of ``day``."""
        if self.layout == "attributed":
            return timeline_reference.attributed_as_of(
                tables["attributed"], self.experiment, attributed_source(), day
            )
        return timeline_reference.exposures_as_of(
            tables["exposures"], tables["events"], self.experiment, exposures_source(), day
        )


_ROWS = {"goals": "goal", "metrics": "metric", "units": "unit"}
EXPOSURE = "count(user.global.exposure)"
CHECKS = [{"id": 1, "name": "SRM", "denominator": EXPOSURE}]
WINDOW: dict[str, Any] = {"date_from": DATE_FROM.isoformat(), "date_to": DATE_TO.isoformat()}
ATTRIBUTION: dict[str, Any] = {"conversion_delay_hours": DELAY_HOURS, "conversion_window_hours": WINDOW_HOURS}


def experiment(metrics: list[dict[str, Any]], exp_id: str = "exp-1", **fields: Any) -> Experiment:
    """``exp_id`` (control ``a``, unit type ``user``, an SRM check) with ``metrics`` numbered from 1."""
    numbered = [{"id": i, "name": f"metric {i}", **m} for i, m in enumerate(metrics, start=1)]
    base = {"id": exp_id, "control_variant": "a", "unit_type": "user", "checks": CHECKS}
    return Experiment.model_validate({**base, **fields, "metrics": numbered})


SEED_METRICS = [
    {"nominator": "count(user.unit.click)", "denominator": EXPOSURE},
    {"nominator": "value(user.unit.conversion(product=^p_1))", "denominator": "unique(user.global.exposure)"},
    {
        "nominator": "value(user.unit.conversion(product=50%_off|p_1%)) - value(user.unit.refund)",
        "denominator": EXPOSURE,
    },
    {"nominator": "count(user.unit.add_to_cart)", "denominator": "count(user.unit.view(product!=p_2))"},
    {
        "nominator": "2 * count(user.unit.click(price>=10)) + 1",
        "denominator": "count(user.unit.click(price<10))",
    },
]
EXPOSURES_METRICS = [
    {"nominator": "count(user.unit.click)", "denominator": EXPOSURE},
    {"nominator": "value(user.unit.purchase(product=p_1|p_10))", "denominator": "unique(user.unit.view)"},
    {
        "nominator": "value(user.unit.purchase) - value(user.unit.purchase(product=^p_))",
        "denominator": EXPOSURE,
    },
    {"nominator": "count(user.unit.add_to_cart)", "denominator": "count(user.unit.exposure(platform=web))"},
]
CAPPED = {"outlier_upper_percentile": 5, "outlier_lower_percentile": 1}


def _cases() -> list[Case]:
    seed, raw = SEED_METRICS, EXPOSURES_METRICS
    return [
        Case("attributed: rows", "goal, metric and unit rows", "attributed", experiment(seed)),
        Case(
            "attributed: dimension operators",
            "dimension filters",
            "attributed",
            experiment(
                [
                    {"nominator": "count(user.unit.view(product=p_1))", "denominator": EXPOSURE},
                    {"nominator": "count(user.unit.click(product<p_2))", "denominator": EXPOSURE},
                    {"nominator": "value(user.unit.refund(price!=3|4))", "denominator": EXPOSURE},
                    {"nominator": "count(user.unit.view(platform=^we))", "denominator": EXPOSURE},
                ],
                "exp-2",
            ),
        ),
        Case(
            "attributed: goal filter",
            "goal filters",
            "attributed",
            experiment(
                seed,
                filters=[
                    {"scope": "goal", "dimension": "product", "value": ["p_1", "p_10"], "goal": "conversion"}
                ],
            ),
        ),
        Case(
            "attributed: exposure filter",
            "exposure filters",
            "attributed",
            experiment(
                seed, filters=[{"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]}]
            ),
        ),
        Case(
            "attributed: trigger filter",
            "trigger filters",
            "attributed",
            experiment(seed, filters=[{"scope": "trigger", "goal": "view"}]),
        ),
        Case(
            "attributed: date window",
            "date window",
            "attributed",
            experiment(seed, "exp-2", date_from="2024-03-03", date_to="2024-03-09"),
        ),
        Case(
            "attributed: winsorized",
            "winsorization",
            "attributed",
            experiment([{**seed[0], **CAPPED}, seed[2]]),
        ),
        Case(
            "attributed: breakdown", "breakdowns", "attributed", experiment(seed[:3], breakdown=["platform"])
        ),
        Case(
            "attributed: timeline",
            "timeline",
            "attributed",
            experiment(seed[:3], timeline="daily", filters=[{"scope": "trigger", "goal": "view"}], **WINDOW),
        ),
        Case(
            "attributed: quantiles",
            "quantile metrics",
            "attributed",
            experiment(
                [
                    {"nominator": "value(user.unit.conversion)", "quantile": 0.5, "ignore_zeros": True},
                    {"nominator": "value(user.unit.conversion)", "quantile": 0.9, "quantile_of": "event"},
                    seed[0],
                ]
            ),
        ),
        Case("exposures: rows", "exposures layout", "exposures", experiment(raw, **WINDOW)),
        Case(
            "event tables: windows, filters, CUPED",
            "several events tables",
            "event tables",
            experiment(
                [{**raw[0], "conversion_window_hours": 12}, *raw[1:]],
                filters=[
                    {"scope": "goal", "dimension": "product", "value": ["p_1", "p_10"], "goal": "purchase"},
                    {"scope": "trigger", "goal": "view"},
                ],
                cuped_lookback_days=2,
                **WINDOW,
                **ATTRIBUTION,
            ),
        ),
        Case(
            "event tables: breakdown",
            "several events tables",
            "event tables",
            experiment(raw, breakdown=["country"], **WINDOW),
        ),
        Case(
            "exposures: delay and window",
            "attribution window and delay",
            "exposures",
            experiment(raw, **WINDOW, **ATTRIBUTION),
        ),
        Case(
            "exposures: per-metric windows",
            "attribution window and delay",
            "exposures",
            experiment(
                [{**raw[0], "conversion_window_hours": 1}, {**raw[0], "conversion_delay_hours": 25}, raw[2]],
                **WINDOW,
            ),
        ),
        Case(
            "exposures: multiple excluded",
            "multiple exposures: exclude",
            "exposures",
            experiment(raw, "exp-2", **WINDOW, **ATTRIBUTION),
        ),
        Case(
            "exposures: first variant",
            "multiple exposures: first",
            "exposures",
            experiment(raw, multiple_exposures="first", **WINDOW, **ATTRIBUTION),
        ),
        Case(
            "exposures: filters of every scope",
            "goal filters",
            "exposures",
            experiment(
                raw,
                filters=[
                    {
                        "scope": "goal",
                        "dimension": "product",
                        "value": ["p_1", "p_10", "q_1"],
                        "goal": "purchase",
                    },
                    {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]},
                    {"scope": "trigger", "goal": "view"},
                ],
                **WINDOW,
                **ATTRIBUTION,
            ),
        ),
        Case(
            "exposures: winsorized",
            "winsorization",
            "exposures",
            experiment([{**raw[0], **CAPPED}, raw[2]], **WINDOW, **ATTRIBUTION),
        ),
        Case(
            "exposures: CUPED",
            "CUPED",
            "exposures",
            experiment([*raw, {**raw[2], "cuped": False}], cuped_lookback_days=2, **WINDOW, **ATTRIBUTION),
        ),
        Case(
            "exposures: breakdown",
            "breakdowns",
            "exposures",
            experiment(raw[:2], breakdown=["country", "platform"], **WINDOW),
        ),
        Case(
            "exposures: timeline",
            "timeline",
            "exposures",
            experiment(
                raw[:3],
                timeline="daily",
                filters=[{"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]}],
                **WINDOW,
                **ATTRIBUTION,
            ),
        ),
    ]


#: The reference experiments, by name.
CASES: dict[str, Case] = {case.name: case for case in _cases()}
