"""The exposures-and-events layout: an exposure log and a raw events table → the relation of
attributed events, with attribution in SQL.

:class:`ExposuresLayout` puts three CTEs before the builders' scan; the scan then reads
``attributed_events`` as it reads the seed's events table::

    experiment_exposures AS (   -- the experiment's exposures in the window, no NULL key
      SELECT CAST(variant AS TEXT) AS variant_id, unit_id, <exposure dimensions>,
             timestamp AS exposure_timestamp
      FROM exposures WHERE exp_id = ... AND <window> AND <no NULL key>),
    exposed_units AS (          -- one row per unit: its first exposure t0 and its variant
      SELECT unit_id, MIN(exposure_timestamp) AS first_exposure,
             CASE WHEN MIN(variant_id) = MAX(variant_id) THEN MIN(variant_id) END   -- exclude,
               AS unit_variant                                 -- or the first exposure's variant
      FROM experiment_exposures GROUP BY unit_id),
    attributed_events AS (      -- every exposure as an event of goal 'exposure', then the events
      SELECT experiment_exposures.variant_id, unit_id, 'exposure' AS goal, 1 AS cnt, NULL AS value,
             CASE WHEN exposed_units.unit_variant IS NULL THEN 1 ELSE 0 END AS excluded, <dimensions>
      FROM experiment_exposures JOIN exposed_units ON <same unit>
      UNION ALL
      SELECT exposed_units.unit_variant, events.unit_id, events.event, 1, events.value, 0, <dimensions>
      FROM events JOIN exposed_units ON <same unit> AND exposed_units.unit_variant IS NOT NULL
      WHERE events.event IN (<goals>) AND <t0 + delay <= timestamp < t0 + delay + window>
        AND <timestamp before the experiment's end> AND <pruning bounds>)

- Each exposure is a row of goal ``exposure`` (``cnt`` 1), with the attributes the query reads, so
  ``count(exposure)`` counts a unit's exposures, an exposure filter keeps a unit when any of its
  exposures matches, and a dimension filter on the exposure goal reads the exposures' own
  attributes, all through the builders' existing rules. One aggregation of the log (per unit)
  and a join back: measured on DuckDB (10M events, 1.1M exposures), grouping the exposures per
  unit and variant first, then windows per unit, took 1.6-2x the time of this chain, and the
  whole query ~8 % more, though its per-unit step then reads fewer exposure rows.
- A unit exposed to several variants is excluded by default (``unit_variant`` is NULL): its
  exposures are kept, flagged ``excluded = 1``, and none of its events is joined. The builders
  group by the flag beside the variant and show such rows under the marker variant
  ``@multiple:<variant>`` (:data:`~expsql.contracts.MULTIPLE_EXPOSURES_PREFIX`,
  :func:`~expsql.compiler.scan.shown_variant`), so every row contract carries, per variant,
  the units that were excluded (the MultipleExposures check) through the same single pass. (The
  marker computed here instead made every per-unit group key a computed string: 6-7 % of the
  metric-rows query on DuckDB.) With ``multiple_exposures: first`` the unit counts for the variant
  of its earliest exposure (ties: the smallest variant id; ``ROW_NUMBER`` instead of the
  aggregation), with all its exposures, and no row is flagged.
- A timeline (``timeline: daily``, :mod:`.timeline`): every row of ``attributed_events`` carries
  its ``day`` (the date of its timestamp), so ``count(exposure)`` is counted per day.
- The exposure log is scanned once (``experiment_exposures`` and ``exposed_units`` are read twice:
  engines materialize a CTE read twice, or reuse its exchange) and the events table once.
- CUPED (``cuped_lookback_days``): the events branch also keeps each unit's events in
  ``[t0 - lookback, t0)``, flagged ``pre_period = 1``; the builders read them as pre-exposure
  goal terms (:class:`~expsql.compiler.terms.PreKey`) and the pruning bounds start ``lookback``
  before the window.
- When metrics set their own windows, the events branch keeps the loosest window and carries
  ``event_timestamp`` and ``first_exposure``, so each goal term tests its own
  (:func:`~expsql.compiler.predicates.key_conditions`).
"""

from __future__ import annotations

from sqlglot import exp

from expsql.compiler.first_rows import first_of, ranked_first
from expsql.compiler.layouts.attribution import (
    EXPERIMENT_EXPOSURES,
    EXPOSED_UNITS,
    EXPOSURE_TIMESTAMP,
    PRE_PERIOD,
    event_branch,
    experiment_exposures,
    exposed_units,
    exposure_branch,
    not_excluded,
)
from expsql.compiler.layouts.base import Layout
from expsql.compiler.layouts.event_tables import dimensions_read, table_reads
from expsql.compiler.layouts.exclusion_by_day import (
    exposed_units_by_day,
    exposure_branch_by_day,
    leave_branch,
)
from expsql.compiler.nodes import column, cte, identifier
from expsql.compiler.plan import Plan
from expsql.compiler.relation import DAY, EXCLUDED, EXPOSURE, LEAVES, Relation
from expsql.dialects.base import Dialect
from expsql.errors import ExperimentError
from expsql.grammar.ast import GoalKey, goals
from expsql.models import AttributionWindow, Check, Experiment, Metric
from expsql.source import AnySource, ExposuresSource

#: The name of the layout's relation of attributed events.
ATTRIBUTED_EVENTS = "attributed_events"


class ExposuresLayout(Layout):
    """The exposures-and-events layout: the scan reads ``attributed_events``.

    What the CTEs read, from the plan's experiment:

    - ``window``: the window the events branch applies, the loosest of all metrics' windows (each
      goal term tests its own when they differ, :attr:`~expsql.compiler.plan.Plan.windowed`);
    - ``event_reads``: each events table read, with the goals resolved to it (never
      ``exposure``; trigger filters' goals included) and its dimension columns
      (:mod:`.event_tables`);
    - ``event_dimensions`` and ``exposure_dimensions``: the dimension columns read from the events
      tables and from the exposure log; ``segment_dimensions``: the breakdown's, from the log;
    - ``lookback_seconds``: CUPED's pre-exposure period ``[t0 - lookback, t0)``, read too.
    """

    source_type = ExposuresSource
    #: A unit's segment is its first exposure's, whatever variant(s) its rows carry.
    segment_keys = ("unit_id",)

    def __init__(self, plan: Plan) -> None:
        super().__init__(plan)
        assert isinstance(plan.source, ExposuresSource) and plan.relation.applied_window is not None
        experiment = plan.experiment
        self.source = plan.source
        self.window: AttributionWindow = plan.relation.applied_window
        self.event_dimensions, self.exposure_dimensions = dimensions_read(experiment)
        self.event_reads = table_reads(experiment, plan.source)
        self.segment_dimensions = tuple(d for d in experiment.breakdown if d not in self.exposure_dimensions)
        self.lookback_seconds = _lookback_seconds(experiment)

    @classmethod
    def plan_relation(cls, experiment: Experiment, source: AnySource, terms: list[GoalKey]) -> Relation:
        """``attributed_events``: one experiment, one unit type, no dates; with a timeline each
        event's ``day``, with CUPED its ``pre_period`` flag, under ``multiple_exposures: exclude``
        the ``excluded`` flag, and when metrics' windows differ each event's timestamp and ``t0``.

        :raises ExperimentError: a goal of another unit type than the exposure log's.
        """
        assert isinstance(source, ExposuresSource)
        table_reads(experiment, source)  # every goal resolves to one events table
        unit_type = source.exposures.unit_type
        for key in terms:
            if key.unit_type != unit_type:
                raise ExperimentError(
                    f"goal {key} is of unit type {key.unit_type!r}, but the exposure log's units are "
                    f"{unit_type!r} (exposures.unit_type): the exposures layout evaluates one unit type"
                )
        windows = tuple(
            dict.fromkeys(experiment.attribution_window(item) for item in _windowed_items(experiment))
        )
        windowed = len(windows) > 1
        excluding = experiment.multiple_exposures == "exclude"
        return Relation(
            (ATTRIBUTED_EVENTS,),
            exp_variant_id="variant_id",
            unit_id="unit_id",
            goal="goal",
            cnt="cnt",
            value="value",
            event_timestamp="event_timestamp" if windowed else None,
            first_exposure="first_exposure" if windowed else None,
            applied_window=_loosest(windows) if windows else experiment.attribution_window(),
            pre_period=PRE_PERIOD if experiment.cuped_metrics() and experiment.cuped_lookback_days else None,
            day=DAY if experiment.timeline is not None else None,
            excluded=EXCLUDED if excluding else None,
            exposure_cnt_one=True,
            leaves=LEAVES if experiment.timeline is not None and excluding else None,
        )

    def ctes(self, dialect: Dialect) -> list[exp.CTE]:
        return attribution_ctes(self.plan, self, dialect)

    def evaluated_units(self) -> exp.Expression | None:
        return not_excluded(self.relation)

    def unit_segments(self, dialect: Dialect, scanned: str) -> exp.Select:
        """Per unit: the breakdown attributes of its first exposure in the exposure log (ties: the
        smallest attributes, NULL last, then the smallest variant)."""
        keys = ["unit_id"]
        attributes: list[exp.Expression] = [column(segment.name) for segment in self.plan.segments]
        order: list[exp.Expression] = [column(EXPOSURE_TIMESTAMP)]
        tie_breaks = (column("variant_id"),)
        inner, names = first_of(self.plan, keys, attributes, order, EXPERIMENT_EXPOSURES, tie_breaks)
        return ranked_first(inner, keys, names)


def _lookback_seconds(experiment: Experiment) -> int | None:
    """CUPED's pre-exposure period in seconds (``None``: no CUPED metric)."""
    lookback = experiment.cuped_lookback_days if experiment.cuped_metrics() else None
    return round(lookback * 86_400) if lookback else None


def _windowed_items(experiment: Experiment) -> list[Metric | Check]:
    """The metrics and checks whose goals read events (not only the exposure)."""
    items: list[Metric | Check] = []
    every: list[Metric | Check] = [*experiment.metrics, *experiment.checks]
    for item in every:
        sides = [item.nominator_expr, item.denominator_expr]
        if any(goal.goal != EXPOSURE for side in sides if side is not None for goal in goals(side)):
            items.append(item)
    return items


def _loosest(windows: tuple[AttributionWindow, ...]) -> AttributionWindow:
    """The smallest window holding all of ``windows``: the earliest start to the latest end."""
    delay = min(w.delay_seconds for w in windows)
    ends = [None if w.length_seconds is None else w.delay_seconds + w.length_seconds for w in windows]
    end = None if None in ends else max(e for e in ends if e is not None)
    return AttributionWindow(delay, None if end is None else end - delay)


def attribution_ctes(plan: Plan, layout: ExposuresLayout, dialect: Dialect) -> list[exp.CTE]:
    """``experiment_exposures``, ``exposed_units`` and ``attributed_events``."""
    by_day = layout.relation.leaves is not None  # a timeline excluding units day by day
    ctes = [
        cte(EXPERIMENT_EXPOSURES, experiment_exposures(plan, layout, dialect)),
        cte(EXPOSED_UNITS, exposed_units_by_day() if by_day else exposed_units(plan)),
    ]
    branches = [exposure_branch_by_day(plan, layout) if by_day else exposure_branch(plan, layout)]
    if by_day:
        branches.append(leave_branch(plan, layout))
    branches += [event_branch(plan, layout, read, dialect) for read in layout.event_reads]
    union: exp.Query = branches[0]
    for branch in branches[1:]:
        union = exp.Union(this=union, expression=branch, distinct=False)
    ctes.append(exp.CTE(this=union, alias=exp.TableAlias(this=identifier(ATTRIBUTED_EVENTS))))
    return ctes


#
# A reader at the end of day d excludes the units exposed to several variants by d and counts
# each other unit in its variant. So a unit whose second variant is first seen on day D counts in
# its first variant on the days before D, then leaves it: its exposures before D are rows of its
# first variant, each of its exposures is also a row of its marker variant (``excluded`` 1) from D
# on, one ``leaves`` row on D takes it out of its first variant (the timeline counts it out), and
# its events before D are joined. Exposures of a unit seen in one variant are rows as before.
