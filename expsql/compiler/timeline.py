"""The timeline's query (``timeline: daily``): metric rows cumulative as of each day, in one query.

A unit's per-unit square is not additive over days (``(a + b)² ≠ a² + b²``), but its
day-over-day increments are: as of day d, ``Σ_units x_d² = Σ_units Σ_{days ≤ d} (x_day² −
x_prev²)``, summed over the unit-days that had activity. So the query needs no units × days
grid, only each unit's days with events::

    experiment_events AS (... the scan of metric rows, with each event's day ...),
    unit_days AS (          -- per unit and day: its goal-term sums that day
      SELECT variant, unit, day, SUM(CASE WHEN term = 3 THEN cnt ELSE 0 END) AS count_3, ...,
             COUNT(CASE WHEN <exposure> THEN 1 END) AS exposure_events, MAX(unit_filter_0) ...
      GROUP BY variant, unit, day),
    unit_cumulative AS (    -- running sums per unit, its exposure events too: one window
      SELECT *, SUM(count_3) OVER (PARTITION BY unit, variant ORDER BY day ROWS ...) AS cumulative_count_3,
             SUM(exposure_events) OVER (...) AS cumulative_exposure_events, ...
      FROM unit_days),
    unit_entries AS (       -- its days once exposed; ``entered`` on the first of them
      SELECT *, CASE WHEN cumulative_exposure_events = exposure_events THEN 1 ELSE 0 END AS entered
      FROM unit_cumulative WHERE cumulative_exposure_events > 0),
    unit_metrics AS (       -- each per-unit expression as of the day, and as of the day before
      SELECT variant, day, entered, <expression over cumulative_i> AS current_0,
             CASE WHEN entered = 1 THEN 0 ELSE <expression over cumulative_i - count_i> END AS previous_0
      FROM unit_entries),
    variant_days AS (       -- the increments of n, Σe, Σe·e' per variant and day
      SELECT variant, day, SUM(entered) AS n, SUM(current_0 - previous_0) AS sum_0,
             SUM(current_0 * current_1 - previous_0 * previous_1) AS sum_0_1 ... GROUP BY variant, day),
    variant_sums AS (       -- running over days: the metric rows' sums as of each day
      SELECT variant, day, SUM(n) OVER (PARTITION BY variant ORDER BY day ROWS ...) AS n, ...)
    SELECT <the metric rows' unpivot>, day FROM variant_sums CROSS JOIN (VALUES ...) AS metric_rows

As of day d a unit counts once it is exposed (and passes every unit filter) by d, with all its
events up to d: its first counted day adds its whole running sums (its events before the
exposure included, as the single look counts them), later days the change. The exposures
layout applies every attribution window to each event as it does for one look, so its events
up to day d are the ones a query on day d counts. The running sums over days are taken in SQL:
the per-variant rows are a handful per day, their window costs nothing beside the per-unit step.
A unit filter is one more running sum (of the unit-day's ``MAX`` of its flag), so every per-unit
running value shares one window: measured on DuckDB, a second window specification (``MIN(...)
OVER (PARTITION BY unit)`` for the day of entry) partitioned the unit-days a second time.

The window is the query's main cost, and on DuckDB each running sum in it costs about as much
as the next (one fewer: ~6 % of the query). So the exposures layout, where each exposure counts 1,
sums no ``exposure_events``: the exposure term's ``cumulative_count_0`` is their running count
(the attributed layout's ``cnt`` can be anything: it keeps its own). And the partition lists the
unit first: the engine sorts the unit-days by the partition's columns in that order, and the unit
decides almost every comparison (~5 %). Measured on DuckDB, 2 threads, a shared machine, the
previous and this SQL alternated over the benchmark's data (10M events, 5 rounds): 14.0 s CPU
against 16.6 s (-15 %); ``benchmarks/timeline.py`` then gave 2.5x the single look, wall and CPU
(14.7 s against 5.9 s wall). The 2x target is not met: the unit-day grouping and the window's sort
each cost about what the single look's grouping of units costs, and the running sums (one per
goal term the products read) as much again. Tried and not kept, each within noise: a window over
the events themselves (no ``unit_days``: each event adds the increment of its own running sums,
which telescopes to the day's; sorting 1.4x the rows costs what the grouping saved), the entry
day as a whole-partition ``MIN`` in the same window, ``SUM(CASE ... ELSE 0 END)`` in
``unit_days``.

- CUPED: a covariate reads pre-exposure events, all before the unit's first counted day, so it
  is fixed at the first exposure ``t0``: the same expressions and products, nothing special.
- Winsorization: a metric's caps are the percentiles of every unit's value as of the last day
  (the single look's caps), applied on every day, so the last day equals the single look. A
  reader on an earlier day would have capped at that day's percentiles; the timeline keeps one
  set of caps so that a day's change is the data's, not the caps'.
- Multiple exposures under ``exclude`` (exposures layout): a unit counts in its first variant
  until the day its second variant is first seen, then leaves it: the layout adds one ``leaves``
  row that day (:mod:`.layouts.exclusion_by_day`), on which the unit's values count as 0, so the
  day's increments take its whole contribution out and ``n`` one down (``SUM(entered) -
  SUM(leaves)``); its exposures count under the markers from that day on. Each day then equals
  the single look of the window cut there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from expsql.compiler.layouts import layout_of
from expsql.compiler.nodes import (
    alias,
    ascending,
    column,
    conjunction,
    cte,
    day_of,
    disjunction,
    identifier,
    number,
    with_ctes,
)
from expsql.compiler.plan import Plan
from expsql.compiler.predicates import event_column
from expsql.compiler.scan import (
    SCAN,
    TERM,
    UNIT,
    scan_query,
    source_ctes,
    unit_filter_flag,
    variant_keys,
)
from expsql.compiler.segments import segment_columns, segmented_scan, segmented_units
from expsql.compiler.term_codes import coded_scan
from expsql.compiler.unit_columns import (
    EXPOSURE_TERM,
    UNIT_METRICS,
    as_double,
    count_column,
    covariate_id,
    exposure_events,
    products_of,
    term_sums,
    unit_columns,
)
from expsql.compiler.unpivot import VARIANT_SUMS, product_column, rows_query, sum_column
from expsql.compiler.winsorize import winsorize, winsorized_quantiles
from expsql.dialects.base import Dialect
from expsql.timeline_days import DAY

UNIT_DAYS = "unit_days"
UNIT_CUMULATIVE = "unit_cumulative"
UNIT_ENTRIES = "unit_entries"
VARIANT_DAYS = "variant_days"
EXPOSURE_EVENTS = "exposure_events"
ENTERED = "entered"
LAST_DAY = "last_day"
LEAVES = "leaves"
SEGMENTED_UNIT_DAYS = "segmented_unit_days"


def timeline_rows_tree(plan: Plan, dialect: Dialect) -> exp.Select:
    """The timeline's query: the metric rows of :mod:`expsql.contracts` with a ``day`` column,
    each row cumulative as of that day (a variant's row is absent on days it had no activity: its
    sums are those of its latest earlier row)."""
    planned = unit_columns(plan)
    plan, pairs, covariates = planned.plan, planned.pairs, planned.covariates
    assert plan.relation.day is not None, "the plan's layout carries the day (timeline set)"
    if len(plan.layers) == 1:
        scan = scan_query(plan, dialect, doubles=True)
        sums = term_sums(plan, _is_term, column)
        matches: Callable[[int], exp.Expression] = _is_term
    else:
        scan, matches = coded_scan(plan, dialect)
        sums = term_sums(plan, matches, column, null_default=True)
    scan.select(alias(day_of(event_column(plan.relation.day)), DAY), append=True, copy=False)
    if plan.relation.leaves is not None:
        scan.select(alias(event_column(plan.relation.leaves), LEAVES), append=True, copy=False)
    terms = [projection.alias for projection in sums]
    quantiles = winsorized_quantiles(plan.experiment)
    winsorized = bool(quantiles)
    used = sorted({i for pair in [*pairs, *covariates.values()] for i in pair})
    segmented = segmented_units(plan, UNIT_DAYS, SEGMENTED_UNIT_DAYS)
    ctes = [
        *source_ctes(plan, dialect),
        *segmented_scan(plan, dialect, scan, SCAN),
        cte(UNIT_DAYS, _unit_days(plan, sums, matches)),
        *segmented,
        cte(
            UNIT_CUMULATIVE,
            _unit_cumulative(
                plan, terms, dialect, SEGMENTED_UNIT_DAYS if segmented else UNIT_DAYS, last_day=winsorized
            ),
        ),
        cte(UNIT_ENTRIES, _unit_entries(plan)),
        cte(
            UNIT_METRICS,
            _unit_metrics(plan, planned.built, planned.doubles, used, terms, last_day=winsorized),
        ),
    ]
    names = {i: _current(i) for i in used}
    # Winsorization: caps over each unit's value as of its last day, clipping both days' values.
    metric_ids = planned.metric_ids
    quantiles.update({covariate_id(i): quantiles[i] for i in metric_ids if i in quantiles})
    final = exp.EQ(this=column(DAY), expression=column(LAST_DAY))
    pool = conjunction(
        [c for c in (layout_of(plan).evaluated_units(), final, _staying(plan)) if c is not None]
    )
    width = len(planned.built)
    capped = winsorize(
        quantiles,
        dialect,
        [*metric_ids, *(covariate_id(metric_ids[i]) for i in covariates)],
        [names.get(i, "") for i in range(width)],
        [*pairs, *covariates.values()],
        UNIT_METRICS,
        pool,
    )
    if capped.ctes:
        _clip_previous(capped.ctes[-1].this, capped.names, width)
        names |= {i: capped.names[i] for i in range(width, len(capped.names))}
    capped_pairs = capped.pairs[: len(pairs)]
    capped_covariates = dict(zip(covariates, capped.pairs[len(pairs) :], strict=True))
    products = products_of(capped_pairs, capped_covariates)
    ctes += [
        *capped.ctes,
        cte(VARIANT_DAYS, _variant_days(plan, names, products, capped.table)),
        cte(VARIANT_SUMS, _variant_sums(plan, products, dialect)),
    ]
    query = rows_query(plan, metric_ids, capped_pairs, capped_covariates)
    query.select(column(DAY), append=True, copy=False)
    return with_ctes(query, ctes)


def _staying(plan: Plan) -> exp.Expression | None:
    """The unit-day is not the one its unit leaves its variant on (``None``: no unit leaves)."""
    if plan.relation.leaves is None:
        return None
    return exp.EQ(this=column(LEAVES), expression=number(0))


def _is_term(term: int) -> exp.Expression:
    return exp.EQ(this=column(TERM), expression=number(term))


def _unit_partition(plan: Plan) -> list[exp.Expression]:
    return [*variant_keys(plan), column(UNIT)]


def _unit_window(plan: Plan) -> list[exp.Expression]:
    """The running sums' partition: the unit's, the unit first (DuckDB sorts the unit-days by
    the partition's columns in their order, and the unit decides almost every comparison)."""
    return [column(UNIT), *variant_keys(plan)]


def _running(function: exp.Expression, partition: Sequence[exp.Expression], dialect: Dialect) -> exp.Window:
    """``function`` over the partition's rows up to this one, by day."""
    spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
    order = exp.Order(expressions=[ascending(column(DAY), dialect)])
    return exp.Window(this=function, partition_by=list(partition), order=order, spec=spec)


def _unit_days(
    plan: Plan, sums: list[exp.Expression], matches: Callable[[int], exp.Expression]
) -> exp.Select:
    """Per unit and day: the goal-term sums, its exposure events and each unit filter's flag."""
    keys = [*_unit_partition(plan), column(DAY)]
    exposures = [] if plan.relation.exposure_cnt_one else [alias(exposure_events(matches), EXPOSURE_EVENTS)]
    leaves = [] if plan.relation.leaves is None else [alias(exp.Max(this=column(LEAVES)), LEAVES)]
    projections = [
        *keys,
        *sums,
        *exposures,
        *(
            alias(exp.Max(this=column(unit_filter_flag(item.index))), _passed(item.index))
            for item in plan.unit_filters
        ),
        *leaves,
    ]
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(SCAN)), copy=False)
        .group_by(*(key.copy() for key in keys), copy=False)
    )


def _entries(plan: Plan) -> list[str]:
    """The per unit-day columns of what a unit must have had to be counted: its exposure events,
    and for each unit filter an event passing it (0 or 1). Where every exposure counts 1 (the
    exposures layout), the exposure term's count is the exposure events: its running sum serves,
    one window aggregate fewer."""
    exposures = count_column(EXPOSURE_TERM) if plan.relation.exposure_cnt_one else EXPOSURE_EVENTS
    return [exposures, *(_passed(item.index) for item in plan.unit_filters)]


def _passed(index: int) -> str:
    """Per unit-day: 1 when an event of the day lets the unit pass ``Experiment.filters[index]``
    (not the scan's flag's own name: ClickHouse would read the alias inside its ``MAX``)."""
    return f"passed_{unit_filter_flag(index)}"


def _cumulative(term: str) -> str:
    return f"cumulative_{term}"


def _unit_cumulative(
    plan: Plan, terms: list[str], dialect: Dialect, unit_days: str, *, last_day: bool
) -> exp.Select:
    """Each unit-day of ``unit_days`` with its running term sums and entry columns, all in one
    window (one partitioning and sort of the unit-days), and with ``last_day`` the unit's last day."""
    projections: list[exp.Expression] = [exp.Star()]
    for name in dict.fromkeys([*terms, *_entries(plan)]):
        running = _running(exp.Sum(this=column(name)), _unit_window(plan), dialect)
        projections.append(alias(running, _cumulative(name)))
    if last_day:
        whole = _running(exp.Max(this=column(DAY)), _unit_window(plan), dialect)
        whole.args["spec"].set("end", "UNBOUNDED")
        whole.args["spec"].set("end_side", "FOLLOWING")
        projections.append(alias(whole, LAST_DAY))
    return (
        exp.Select().select(*projections, copy=False).from_(exp.Table(this=identifier(unit_days)), copy=False)
    )


def _unit_entries(plan: Plan) -> exp.Select:
    """The unit-days from the day the unit has had everything its entry needs; ``entered`` is 1
    on that day: the day one of those things happened for the first time."""
    names = _entries(plan)
    kept = conjunction([exp.GT(this=column(_cumulative(name)), expression=number(0)) for name in names])
    first = disjunction([exp.EQ(this=column(_cumulative(name)), expression=column(name)) for name in names])
    entered = exp.Case(ifs=[exp.If(this=first, true=number(1))], default=number(0))
    return (
        exp.Select()
        .select(exp.Star(), alias(entered, ENTERED), copy=False)
        .from_(exp.Table(this=identifier(UNIT_CUMULATIVE)), copy=False)
        .where(kept, copy=False)
    )


def _current(index: int) -> str:
    return f"current_{index}"


def _previous(name: str) -> str:
    return f"previous_{name}"


def _as_of(expression: exp.Expression, terms: list[str], *, before: bool) -> exp.Expression:
    """A per-unit expression over the running sums, as of the day or (``before``) the day before."""
    wanted = set(terms)

    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in wanted:
            running = column(_cumulative(node.name))
            if not before:
                return running
            return exp.Paren(this=exp.Sub(this=running, expression=column(node.name)))
        return node

    return expression.copy().transform(replace, copy=False)


def _not_entered(expression: exp.Expression) -> exp.Expression:
    """0 on the unit's first counted day (it was not counted the day before), else ``expression``."""
    first = exp.EQ(this=column(ENTERED), expression=number(1))
    return exp.Case(ifs=[exp.If(this=first, true=number(0))], default=expression)


def _unit_metrics(
    plan: Plan,
    built: list[exp.Expression],
    doubles: list[bool],
    used: list[int],
    terms: list[str],
    *,
    last_day: bool,
) -> exp.Select:
    """Per unit-day: each per-unit expression the metric rows read, as of the day and the day
    before (and the unit's last day, whose values winsorization's caps are taken over)."""
    keys = [*(key.name for key in variant_keys(plan)), DAY, *([LAST_DAY] if last_day else []), ENTERED]
    keys += [] if plan.relation.leaves is None else [LEAVES]
    keys += [segment.name for segment in segment_columns(plan)]
    projections: list[exp.Expression] = [column(name) for name in keys]
    for i in used:
        current = as_double(_as_of(built[i], terms, before=False), doubles[i])
        previous = as_double(_as_of(built[i], terms, before=True), doubles[i])
        projections += [alias(current, _current(i)), alias(_not_entered(previous), _previous(_current(i)))]
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(UNIT_ENTRIES)), copy=False)
    )


def _clip_previous(capped: exp.Select, names: list[str], width: int) -> None:
    """Add to winsorization's ``capped_metrics`` the day-before value of each capped column, capped
    at the same caps (0 on the unit's first day: it was not counted)."""
    for projection in list(capped.expressions):
        if not isinstance(projection, exp.Alias) or projection.alias not in names[width:]:
            continue
        clipped = projection.this.copy()
        for target in clipped.find_all(exp.Column):
            if target.name.startswith("current_"):
                target.set("this", identifier(_previous(target.name)))
        capped.select(alias(_not_entered(clipped), _previous(projection.alias)), append=True, copy=False)


def _variant_days(
    plan: Plan, names: dict[int, str], products: list[tuple[int, int]], table: str
) -> exp.Select:
    """Per variant and day: the increments of ``n`` and of the sums the metric rows read."""
    used = sorted({i for pair in products for i in pair})
    keys = [*variant_keys(plan), *segment_columns(plan), column(DAY)]
    entries: exp.Expression = exp.Sum(this=column(ENTERED))
    if plan.relation.leaves is not None:  # a unit leaving its variant counts out of it
        entries = exp.Sub(this=entries, expression=exp.Sum(this=column(LEAVES)))
    projections: list[exp.Expression] = [*keys, alias(entries, "n")]

    def now(value: exp.Expression) -> exp.Expression:
        """A value as of the day; 0 on the day the unit leaves its variant."""
        staying = _staying(plan)
        return (
            value if staying is None else exp.Case(ifs=[exp.If(this=staying, true=value)], default=number(0))
        )

    for i in used:
        change = exp.Sub(this=now(column(names[i])), expression=column(_previous(names[i])))
        projections.append(alias(exp.Sum(this=change), sum_column(i)))
    for left, right in _product_order(products):
        current = now(exp.Mul(this=column(names[left]), expression=column(names[right])))
        before = exp.Mul(this=column(_previous(names[left])), expression=column(_previous(names[right])))
        projections.append(
            alias(exp.Sum(this=exp.Sub(this=current, expression=before)), product_column(left, right))
        )
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(table)), copy=False)
        .group_by(*(key.copy() for key in keys), copy=False)
    )


def _product_order(products: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Squares first, then the other products, as :func:`.metric_rows.variant_sums_query` orders them."""
    used = sorted({i for pair in products for i in pair})
    squares = {(i, i) for i in used}
    return [*sorted(squares), *(p for p in products if p not in squares)]


def _variant_sums(plan: Plan, products: list[tuple[int, int]], dialect: Dialect) -> exp.Select:
    """Per variant and day: the running sums over days, the metric rows as of that day."""
    used = sorted({i for pair in products for i in pair})
    partition = [*variant_keys(plan), *segment_columns(plan)]
    running = _running(exp.Sum(this=column("n")), partition, dialect)
    count = exp.Cast(this=running, to=exp.DataType.build("BIGINT"))
    projections: list[exp.Expression] = [*(key.copy() for key in partition), column(DAY), alias(count, "n")]
    names = [sum_column(i) for i in used] + [product_column(a, b) for a, b in _product_order(products)]
    projections += [alias(_running(exp.Sum(this=column(name)), partition, dialect), name) for name in names]
    return (
        exp.Select()
        .select(*projections, copy=False)
        .from_(exp.Table(this=identifier(VARIANT_DAYS)), copy=False)
    )
