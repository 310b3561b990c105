"""Experiment → plan: what one query must compute, before any SQL is written.

The plan names the goal terms the query reads (a goal with its dimension filters, each counted
once however many metrics use it), the values each dimension filter compares with (typed by the
:class:`~expsql.source.Source`), and how the terms split into *layers* of pairwise disjoint terms:
an event matches at most one term of a layer, so one layer is one ``CASE`` that assigns an event
its term, and overlapping terms (``product=p_1`` and ``product=^p_``) land in different layers so
each counts the event. The experiment's filters (:class:`~expsql.models.Filter`) are split into
goal filters, which drop events, and unit filters (exposure, trigger), which drop units; their
values are typed like a goal's ``dimension=a|b``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from expsql.compiler.relation import EXPOSURE, Relation
from expsql.compiler.terms import (
    GoalIdentity,
    TypedValue,
    WindowedKey,
    goal_identity,
    layer_terms,
    pre_key,
    typed_value,
)
from expsql.contracts import (
    EXPOSURE_ROW_ID,
    GOAL_KEYS,
    GOAL_VALUES,
    METRIC_KEYS,
    METRIC_VALUES,
    UNIT_KEYS,
    check_row_id,
    metric_row_id,
)
from expsql.errors import ExperimentError
from expsql.grammar.ast import Dimension, Expr, Goal, GoalKey, Number, goals
from expsql.models import AttributionWindow, Check, Experiment, Filter, FilterValue, Metric
from expsql.source import AnySource, DimensionType, ExposuresSource


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One row of the metric-rows contract: its ``metric_id``, the per-unit x and y expressions and,
    when metrics' attribution windows differ, the window its goals are counted in."""

    metric_id: str
    nominator: Expr
    denominator: Expr
    window: AttributionWindow | None = None
    #: CUPED adjusts this row: its covariates are the same expressions over pre-exposure terms.
    covariate: bool = False


@dataclass(frozen=True, slots=True)
class PlannedFilter:
    """An experiment filter: ``dimension`` is its ``value`` list as a ``dimension=v1|v2`` filter.

    :param index: its position in ``Experiment.filters``, for error messages and column names.
    """

    index: int
    scope: str
    goal: str | None
    dimension: Dimension | None


@dataclass(frozen=True, slots=True)
class KeyColumn:
    """An extra key column of every row the query returns (a breakdown dimension): the builders
    carry ``column`` from the scan to the last ``GROUP BY`` and name it ``name`` in the rows."""

    name: str
    column: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the SQL builders need, independent of any warehouse.

    :param terms: distinct goal terms, the exposure first.
    :param layers: term indexes grouped so that no event matches two terms of one layer.
    :param dimension_names: dimension columns of the goal rows, in first-seen order.
    :param dimension_types: the declared type of each of those columns and of the filters' columns.
    :param goal_filters: filters of scope ``goal``, which drop goal events in the scan.
    :param unit_filters: filters of scope ``exposure`` and ``trigger``, which drop units.
    """

    experiment: Experiment
    source: AnySource
    terms: tuple[GoalKey, ...]
    layers: tuple[tuple[int, ...], ...]
    dimension_names: tuple[str, ...]
    dimension_types: dict[str, DimensionType]
    indexes: dict[GoalKey, int]
    #: Where the events come from (planned by the source's layout, :mod:`.layouts`).
    relation: Relation
    goal_filters: tuple[PlannedFilter, ...] = ()
    unit_filters: tuple[PlannedFilter, ...] = ()
    #: The terms include the pre-exposure terms of CUPED covariates (:func:`with_covariates`),
    #: so every other event term is tested to be after the first exposure.
    covariates: bool = False
    #: Some goal term's ``value`` is read; when not (metric rows without ``value()``), a layout's
    #: CTEs leave the events' value column unread (a warehouse bills by the columns it reads).
    reads_value: bool = True
    #: The goals whose ``value`` some term reads (``None``: any goal's may be, as in goal and unit
    #: rows): a table of several that holds none of them leaves its value column unread.
    value_goals: frozenset[str] | None = None
    #: The breakdown's dimensions (exposure attributes, constant per unit) as key columns.
    segments: tuple[KeyColumn, ...] = ()
    #: The metric rows include the checks' and the exposure's rows (``@`` ids); not in the second
    #: and later statements of an experiment split by the warehouse's query-length limit.
    shared_rows: bool = True

    @property
    def key_columns(self) -> tuple[KeyColumn, ...]:
        """The extra key columns of every row, after the contract's own keys."""
        return self.segments

    @property
    def windowed(self) -> bool:
        """Goal terms carry their metric's attribution window (:class:`WindowedKey`)."""
        return self.relation.first_exposure is not None

    def identity(self, key: GoalKey) -> GoalIdentity:
        """The goal's identity in this source: without an ``agg_type`` column, unit and global meet."""
        return goal_identity(key, self.relation.agg_type is not None)

    def term_index(self, key: GoalKey, window: AttributionWindow | None = None) -> int:
        """The index of the term of ``key``, in ``window`` when the plan's terms carry windows."""
        return self.indexes[windowed_key(key, window) if window is not None else key]

    def typed_values(self, dimension: Dimension) -> tuple[TypedValue, ...]:
        return tuple(
            typed_value(v, dimension, self.dimension_types[dimension.name]) for v in dimension.values
        )

    def metric_rows(self) -> list[MetricRow]:
        """The metric rows: metrics, then checks (x = 0 without a nominator), then the exposure row
        (those two only with :attr:`shared_rows`)."""
        experiment = self.experiment

        def window(item: Metric | Check) -> AttributionWindow | None:
            return experiment.attribution_window(item) if self.windowed else None

        adjusted = {m.id for m in experiment.cuped_metrics()} if self.covariates else set()
        rows = [
            MetricRow(metric_row_id(m.id), m.nominator_expr, m.denominator_expr, window(m), m.id in adjusted)
            for m in experiment.metrics
        ]
        if not self.shared_rows:
            return rows
        for check in experiment.checks:
            nominator = check.nominator_expr if check.nominator_expr is not None else Number(0)
            rows.append(MetricRow(check_row_id(check.id), nominator, check.denominator_expr, window(check)))
        exposure = self.experiment.exposure_goal
        rows.append(MetricRow(EXPOSURE_ROW_ID, exposure, exposure))
        return rows


def build_plan(experiment: Experiment, source: AnySource, relation: Relation) -> Plan:
    """Check the experiment against the source and lay out its goal terms, read from ``relation``
    (planned by the source's layout: :func:`expsql.compiler.layouts.plan_query` plans both).

    :raises ExperimentError: a dimension name collides with a row-contract column, a value does
        not fit its column's declared type, or ``=^`` is used on a column that is not a string.
    """
    _reject_nul(experiment, source)
    keys = experiment.goal_keys()
    terms = tuple(windowed_terms(experiment) if relation.first_exposure is not None else keys)
    names = tuple(experiment.dimension_names())
    reserved = set(GOAL_KEYS) | set(GOAL_VALUES)
    clashes = [name for name in names if name in reserved]
    if clashes:
        raise ExperimentError(
            f"dimension {clashes[0]!r} has the name of a goal-rows column; "
            "read the table through a view that renames it"
        )
    types = {name: source.dimension_type(name) for name in names}
    for key in terms:
        for dimension in key.dimensions:
            for value in dimension.values:
                typed_value(value, dimension, types[dimension.name])
    indexes = {key: index for index, key in enumerate(terms)}
    layers = layer_terms(terms, types, by_agg_type=relation.agg_type is not None)
    filters = [plan_filter(index, f, source, types) for index, f in enumerate(experiment.filters)]
    segments = plan_segments(experiment, source, names)
    for segment in segments:
        types.setdefault(segment.name, source.dimension_type(segment.name))
    return Plan(
        experiment,
        source,
        terms,
        layers,
        names,
        types,
        indexes,
        relation,
        goal_filters=tuple(f for f in filters if f.scope == "goal"),
        unit_filters=tuple(f for f in filters if f.scope != "goal"),
        segments=segments,
    )


def plan_segments(
    experiment: Experiment, source: AnySource, dimensions: Sequence[str]
) -> tuple[KeyColumn, ...]:
    """The breakdown's dimensions as key columns ``segment_0, segment_1, ...``.

    :raises ExperimentError: a dimension the source does not declare as an exposure attribute
        (``dimensions`` of an attributed source, ``exposures.dimensions`` of an exposures source),
        or one that is also a row-contract column or a dimension a metric filters on.
    """
    declared, where = declared_breakdown_dimensions(source)
    reserved = {*GOAL_KEYS, *GOAL_VALUES, *METRIC_KEYS, *METRIC_VALUES, *UNIT_KEYS}
    for name in experiment.breakdown:
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            known = ", ".join(map(repr, declared)) or "none"
            raise ExperimentError(
                f"breakdown dimension {name!r} is not declared in the source's {where} "
                f"(declared: {known}).{hint} Declare it there with its type, or remove it from breakdown."
            )
        if name in reserved:
            raise ExperimentError(
                f"breakdown dimension {name!r} has the name of a row-contract column; "
                "read the table through a view that renames it"
            )
        if name in dimensions:
            raise ExperimentError(
                f"breakdown dimension {name!r} is also a dimension a metric filters on, and the goal "
                f"rows' column {name!r} holds that filter's label; break down by a copy of the column "
                "under another name (a view), or remove it from breakdown"
            )
    return tuple(KeyColumn(name, f"segment_{index}") for index, name in enumerate(experiment.breakdown))


def declared_breakdown_dimensions(source: AnySource) -> tuple[list[str], str]:
    """The dimensions a breakdown may use, and where the source declares them."""
    if isinstance(source, ExposuresSource):
        return list(source.exposures.dimensions), "exposures.dimensions"
    return list(source.dimensions), "dimensions"


def with_covariates(plan: Plan) -> Plan:
    """The plan with the pre-exposure terms of every CUPED metric's goals (the exposure has none:
    a covariate reads it as 1 per unit), laid out again."""
    terms = list(plan.terms)
    for metric in plan.experiment.cuped_metrics():
        for goal in [*goals(metric.nominator_expr), *goals(metric.denominator_expr)]:
            if goal.goal != EXPOSURE and pre_key(goal.key) not in terms:
                terms.append(pre_key(goal.key))
    by_agg_type = plan.relation.agg_type is not None
    return replace(
        plan,
        terms=tuple(terms),
        layers=layer_terms(terms, plan.dimension_types, by_agg_type=by_agg_type),
        indexes={key: index for index, key in enumerate(terms)},
        covariates=True,
    )


def windowed_key(key: GoalKey, window: AttributionWindow) -> GoalKey:
    """The term of ``key`` counted in ``window``; the exposure is no event and has no window."""
    if key.goal == EXPOSURE:
        return key
    return WindowedKey(key.unit_type, key.agg_type, key.goal, key.dimensions, window)


def windowed_terms(experiment: Experiment) -> list[GoalKey]:
    """Every goal term, each in the window of each metric or check that reads it, exposure first."""
    terms: dict[GoalKey, None] = {experiment.exposure_goal.key: None}
    items: list[Metric | Check] = [*experiment.metrics, *experiment.checks]
    for item in items:
        window = experiment.attribution_window(item)
        for side in (item.nominator_expr, item.denominator_expr):
            for goal in goals(side) if side is not None else ():
                terms.setdefault(windowed_key(goal.key, window))
    return list(terms)


def plan_filter(
    index: int, item: Filter, source: AnySource, types: dict[str, DimensionType]
) -> PlannedFilter:
    """One filter with its values checked against the column's declared type (added to ``types``).

    :raises ExperimentError: naming the filter, when a value does not fit the type.
    """
    if item.dimension is None or not item.value:
        return PlannedFilter(index, item.scope, item.goal, None)
    texts = tuple(dict.fromkeys(_filter_text(value) for value in item.value))
    dimension = Dimension(item.dimension, "=", texts)
    dimension_type = types.setdefault(item.dimension, source.dimension_type(item.dimension))
    for text in texts:
        try:
            typed_value(text, dimension, dimension_type)
        except ExperimentError as error:
            raise ExperimentError(f"filters.{index}.value ({item.scope} filter): {error}") from None
    return PlannedFilter(index, item.scope, item.goal, dimension)


def _filter_text(value: FilterValue) -> str:
    """A JSON filter value as the text a metric's ``dimension=value`` would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _reject_nul(experiment: Experiment, source: AnySource) -> None:
    """Refuse a NUL character in any text the query would carry, before any SQL exists.

    PostgreSQL stores no NUL in text (its driver fails on the query), and no warehouse accepts
    one in a name; one rule for every dialect keeps a query portable. Goal and dimension names
    and the values of a metric's dimension filters cannot hold one: the grammar forbids it; an
    experiment filter's values come from JSON and can.
    """
    texts = [("experiment id", experiment.id)]
    texts += [
        (f"filters.{index}.value", value)
        for index, entry in enumerate(experiment.filters)
        for value in entry.value or ()
        if isinstance(value, str)
    ]
    texts += source.names(split_tables=False)
    texts += [("metric id", str(metric.id)) for metric in experiment.metrics]
    texts += [("check id", str(check.id)) for check in experiment.checks]
    for what, text in texts:
        position = text.find("\x00")
        if position >= 0:
            raise ExperimentError(
                f"{what} {text!r} holds a NUL character at position {position}: "
                "no warehouse stores one in text or names"
            )


def goals_of(rows: Sequence[MetricRow]) -> list[Goal]:
    """Every goal reference the metric rows evaluate, in reading order."""
    found: list[Goal] = []
    for row in rows:
        found.extend(goals(row.nominator))
        found.extend(goals(row.denominator))
    return found
