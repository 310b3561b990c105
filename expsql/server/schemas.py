"""Request and response bodies of the REST service, in ep-stats' field names where ep-stats has them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from expsql.models import Experiment, KnownKeysOnly, Prior
from expsql.source import AnySource

RowsContract = Literal["goals", "metrics", "units"]
#: What /compile can compile: the evaluated contracts and ep-stats' by-unit rows.

_EXPOSURES = "count(user.global.exposure)"
#: The demo's experiment: "Try it out" in /docs evaluates it on the demo database as it is.
DEMO_BODY: dict[str, Any] = {
    "id": "checkout-redesign",
    "control_variant": "a",
    "unit_type": "user",
    "variants": ["a", "b", "c"],
    "date_from": "2026-11-02",
    "date_to": "2026-11-15",
    "metrics": [
        {
            "id": 1,
            "name": "Conversion rate",
            "nominator": "unique(user.unit.conversion)",
            "denominator": _EXPOSURES,
            "minimum_effect": 0.05,
        },
        {
            "id": 2,
            "name": "Revenue per user, product p_1",
            "nominator": "value(user.unit.conversion(product=p_1))",
            "denominator": _EXPOSURES,
        },
        {
            "id": 3,
            "name": "Buy-button click-through rate",
            "nominator": "count(user.unit.click(element=button-buy))",
            "denominator": "count(user.unit.view(element=^button-))",
        },
    ],
    "checks": [{"id": 1, "name": "Sample ratio mismatch", "type": "SRM", "denominator": _EXPOSURES}],
}


#: Keys an ep-stats client may send in an ``/evaluate`` body that expsql does not use: tolerated there
#: alone (an experiment file, a Python call and ``/compile`` refuse them as unknown), and ignored.
EPSTATS_TOLERATED_KEYS: dict[str, str] = {
    "outlier_detection_algorithm": "ep-stats' experiment field of 2022-2023 (its PR #36), a hint for "
    "the DAO that ep-stats replaced by query_parameters (PR #55); ignored.",
}


class EvaluateRequest(Experiment):
    """ep-stats' ``Experiment`` body; ``dialect``, ``rows`` and ``confidence_level`` are expsql's extras.

    An unknown key is a 422 naming the closest known one, as in an experiment file, except the
    ep-stats fields expsql does not use (:data:`EPSTATS_TOLERATED_KEYS`), accepted and ignored.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [DEMO_BODY]})

    dialect: str | None = Field(
        default=None, description="Evaluate on the warehouse served for this dialect (default: the server's)."
    )
    rows: RowsContract | None = Field(
        default=None,
        description="Row contract: exact per-unit metric rows, ep-stats' goal rows or per-unit goal "
        "sums (units; larger, evaluated exactly) (default: the server's, but metric rows when a "
        "metric caps outliers: goal rows cannot).",
    )
    outlier_detection_algorithm: Any = Field(
        default=None, description=EPSTATS_TOLERATED_KEYS["outlier_detection_algorithm"]
    )
    write_results: bool = Field(
        default=False,
        description="Also append the evaluation to the results tables of the server's results "
        "schema ([results] schema); the response's run_id names the run.",
    )
    full_refresh: bool = Field(
        default=False,
        description='With "incremental": true: rebuild the experiment\'s state from the whole window '
        "(as after a late-data backfill), then refresh from it.",
    )


class CompileRequest(Experiment):
    """An experiment and what to compile it for."""

    model_config = ConfigDict(json_schema_extra={"examples": [DEMO_BODY | {"dialect": "postgres"}]})

    dialect: str | None = Field(default=None, description="A registered dialect; omit it for every dialect.")
    rows: RowsContract | None = Field(
        default=None,
        description="Row contract: goals, metrics or units "
        "(default: goals, but metrics when a metric caps outliers).",
    )
    source: AnySource | None = Field(
        default=None,
        description="Where the events live: the attributed events table, or exposures and events.",
    )


class CompileResponse(BaseModel):
    experiment_id: str
    rows: RowsContract
    sql: dict[str, str] = Field(
        description="SQL text by dialect: one query, or, where the dialect's query-length limit "
        "forces it, several statements each ended by a semicolon (concatenate their rows)."
    )
    errors: dict[str, str] = Field(
        default_factory=dict, description="Dialects that cannot express the query."
    )


class SampleSizeRequest(KnownKeysOnly):
    """ep-stats' sample-size request; ``std`` null means a conversion metric (Bernoulli)."""

    keys_of = "sample-size request"
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"n_variants": 2, "minimum_effect": 0.05, "mean": 0.4, "std": None}]},
    )

    n_variants: int = Field(ge=2, le=1000)
    minimum_effect: float = Field(gt=0, allow_inf_nan=False)
    mean: float = Field(allow_inf_nan=False)
    std: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    confidence_level: float = Field(default=0.95, gt=0, lt=1)
    power: float = Field(default=0.8, gt=0, lt=1)
    variance_reduction: float | None = Field(
        default=None,
        ge=0,
        lt=1,
        description="expsql: CUPED's expected variance reduction (a past evaluation's variance_reduction); "
        "the variances are scaled by 1 − variance_reduction. Not with rho.",
    )
    rho: float | None = Field(
        default=None,
        gt=-1,
        lt=1,
        description="expsql: correlation of the metric with its pre-exposure value (CUPED); "
        "the same as variance_reduction = rho². Not with variance_reduction.",
    )
    sequential: Literal["none", "always-valid"] | None = Field(
        default=None,
        description="expsql: always-valid plans for the confidence sequence read at the end (more units "
        "than the fixed-horizon test, null or none); the group-sequential modes have no planning.",
    )
    sequential_tuning: float = Field(
        default=5000,
        gt=0,
        allow_inf_nan=False,
        description="expsql, always-valid: the total sample size at which the sequence is tightest.",
    )


class SampleSizeResponse(BaseModel):
    sample_size_per_variant: float | None = Field(description="null when the inputs leave it undefined.")


class MetricStat(BaseModel):
    exp_variant_id: str
    diff: float | None
    mean: float | None
    std: float | None
    sum_value: float | None
    p_value: float | None
    confidence_interval: float | None = Field(description="Half-width of the CI of diff.")
    confidence_level: float | None
    sample_size: float | None = None
    required_sample_size: float | None = None
    power: float | None = None
    false_positive_risk: float | None = None
    cuped: bool = Field(
        default=False, description="expsql: the mean is adjusted by its pre-exposure value (CUPED)."
    )
    variance_reduction: float | None = Field(
        default=None,
        description="expsql: 1 − adjusted / unadjusted variance of the mean (CUPED); null without CUPED.",
    )
    ci_lower: float | None = Field(
        default=None,
        description="expsql: lower bound of the interval of diff (confidence interval or sequence, or "
        "credible interval under Bayesian inference); null for an open one-sided bound.",
    )
    ci_upper: float | None = Field(default=None, description="expsql: upper bound of the interval of diff.")
    chance_to_win: float | None = Field(
        default=None,
        description="expsql, Bayesian inference: the posterior probability that the treatment improves "
        "the metric (higher_is_better decides the direction); null under frequentist inference.",
    )
    risk_control: float | None = Field(
        default=None,
        description="expsql, Bayesian inference: the expected relative loss of keeping the control.",
    )
    risk_treatment: float | None = Field(
        default=None,
        description="expsql, Bayesian inference: the expected relative loss of shipping the treatment.",
    )


class MetricResult(BaseModel):
    id: int | str
    name: str
    stats: list[MetricStat]


class CheckStat(BaseModel):
    variable_id: str
    value: float | None


class CheckResult(BaseModel):
    id: int | str
    name: str
    stats: list[CheckStat]


class ExposureStat(BaseModel):
    exp_variant_id: str
    count: int


class Exposure(BaseModel):
    unit_type: str
    stats: list[ExposureStat]


class SegmentResult(BaseModel):
    """One segment of a breakdown dimension, with ep-stats' ``Result`` fields for it."""

    dimension: str
    segment: str = Field(description="The attribute's value as text; '(null)' and '(other)' included.")
    metrics: list[MetricResult]
    checks: list[CheckResult]
    exposure: Exposure


class TimelinePoint(BaseModel):
    """expsql: one metric × variant as of the end of one day of the window (``timeline: daily``)."""

    day: dt.date
    look: int = Field(
        description="The day's number in the window: look k of the sequential test's daily looks."
    )
    metric_id: int | str
    metric_name: str
    exp_variant_id: str
    count: float | None
    mean: float | None
    diff: float | None
    ci_lower: float | None
    ci_upper: float | None
    p_value: float | None
    confidence_level: float | None = Field(description="The sequential level of the day's look.")
    significant: bool
    chance_to_win: float | None = Field(
        default=None, description="Bayesian inference: the day's chance to win; null under frequentist."
    )


class RefreshInfo(BaseModel):
    """expsql, with ``"incremental": true``: what the refresh did (:mod:`expsql.incremental`)."""

    incremental: bool = Field(
        description="The rows came from the kept state and the rows since its watermark; false: the "
        "state was (re)built from the whole window, or none is kept (reason says why)."
    )
    reason: str = Field(description="Why the refresh was not incremental; empty when it was.")
    state_version: int | None = Field(
        default=None, description="The state's current version after the refresh; null: no state kept."
    )
    settled_until: dt.datetime | None = Field(
        default=None,
        description="The watermark (UTC): the state holds every event before it; later ones were "
        "read from the source tables.",
    )
    summary: str = Field(description="One line, as `expsql run --incremental` prints it.")


class Readout(BaseModel):
    """expsql: how the results were read (:mod:`expsql.stats.readouts`)."""

    inference: Literal["frequentist", "bayesian"]
    sequential: str | None = Field(description="The sequential mode; none under Bayesian inference.")
    prior: Prior = Field(description="Bayesian inference: the prior on the relative effect.")
    sequential_tuning: float | None = None
    decision_threshold: float | None = None
    correction: str | None = Field(
        default=None, description="The multiple-comparison correction; none under Bayesian inference."
    )


class Result(BaseModel):
    """ep-stats' ``Result``: NaN and infinities are ``null``. The ep-stats fields are the overall
    result; ``breakdowns`` (only with a ``breakdown``) holds one result per segment."""

    id: str
    metrics: list[MetricResult]
    checks: list[CheckResult]
    exposure: Exposure
    breakdowns: list[SegmentResult] | None = Field(
        default=None, description="One result per segment of each breakdown dimension."
    )
    run_id: str | None = Field(default=None, description="With write_results: the run written back.")
    refresh: RefreshInfo | None = Field(
        default=None,
        description='expsql: with "incremental": true, whether the rows came from an incremental '
        "refresh; absent without.",
    )
    readout: Readout | None = Field(
        default=None,
        description="expsql: the inference, sequential mode and prior the results used; absent for "
        "the default (frequentist, obrien-fleming).",
    )
    timeline: list[TimelinePoint] | None = Field(
        default=None,
        description='expsql: with "timeline": "daily", each day of the window evaluated as that day\'s '
        "look (metrics × variants per day); absent without.",
    )


class DialectInfo(BaseModel):
    name: str
    description: str
    origin: str = Field(description="'built-in' or the distribution that registered it.")
    connector: bool = Field(description="Has a connector (can run queries, not only compile).")
    installed: bool = Field(description="The connector's client is installed.")
    served: bool = Field(description="This server evaluates on a warehouse of this dialect.")
    default: bool = Field(description="Evaluations without a dialect go here.")
    percentile: Literal["exact", "approximate", "none"] = Field(
        description="The percentile function outlier caps use there: exact, the warehouse's approximation, "
        "or none (winsorized metrics need unit rows there)."
    )
    cancel: bool = Field(
        description="Its connector can cancel a query in the warehouse: an evaluation that times out, "
        "whose client leaves or that a shutdown interrupts stops there too (else it runs to its end)."
    )
    max_query_bytes: int | None = Field(
        default=None,
        description="The longest query text the warehouse takes (bytes); metric rows of a larger "
        "experiment are compiled to several statements, each for a share of the metrics.",
    )
    incremental: bool = Field(
        default=False,
        description='Its warehouse can keep the state of "incremental": true (a table created from a '
        "query, dropped, and a one-row INSERT committed whole); elsewhere such a request is a 422.",
    )


class Health(BaseModel):
    message: str
    version: str
    dialects: list[str] = Field(description="Dialects this server evaluates on.")


class ErrorBody(BaseModel):
    """Every error answer: ``detail`` says what went wrong; some errors add structured fields."""

    model_config = ConfigDict(extra="allow")

    detail: Any
