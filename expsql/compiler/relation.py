"""The relation the scan reads: its table and column names, and what it has already applied.

The row builders read one relation of attributed events through :class:`Relation`'s column names,
whichever source layout (:mod:`.layouts`) defines it: the user's events table itself (the seed
layout), or the ``attributed_events`` CTE the exposures layout builds from an exposure log and raw
events, which has no ``exp_id``, ``unit_type``, ``agg_type`` or ``date`` column. A layout plans its
relation before the plan exists (:meth:`.layouts.base.Layout.plan_relation`); the plan records it.
"""

from __future__ import annotations

from dataclasses import dataclass

from expsql.windows import AttributionWindow

#: The goal whose events are the exposures (the plan's first term).
EXPOSURE = "exposure"
#: The exposures layout's column of each event's day, with a timeline.
DAY = "day"
#: The exposures layout's flag of the rows of units excluded for multiple exposures.
EXCLUDED = "excluded"
#: The exposures layout's flag of the row on which a unit leaves its variant (a timeline under
#: ``multiple_exposures: exclude``).
LEAVES = "leaves"


@dataclass(frozen=True)
class Relation:
    """The table the scan reads and its column names; ``None``: the relation has no such column
    (it holds one experiment, one unit type, or no dates), so nothing tests it."""

    table_parts: tuple[str, ...]
    exp_variant_id: str
    unit_id: str
    goal: str
    cnt: str
    value: str
    exp_id: str | None = None
    unit_type: str | None = None
    agg_type: str | None = None
    date: str | None = None
    #: When each event happened and when its unit was first exposed (exposures layout, for the
    #: attribution windows of single metrics).
    event_timestamp: str | None = None
    first_exposure: str | None = None
    #: The attribution window the relation already applied to every event it holds.
    applied_window: AttributionWindow | None = None
    #: 1 on the events of the unit's pre-exposure period (CUPED covariates), 0 on the others.
    pre_period: str | None = None
    #: The day of each event (``timeline: daily``, :mod:`.timeline`): the date column of the
    #: attributed layout, the day of the event's timestamp in the exposures layout.
    day: str | None = None
    #: 1 on the rows of units excluded for being exposed to several variants, 0 on the others
    #: (exposures layout): the builders group by it beside the variant and show such a unit's
    #: variant as ``@multiple:<variant>`` in the rows (:func:`~expsql.compiler.scan.shown_variant`).
    excluded: str | None = None
    #: A unit's count of the exposure term is its number of exposure events (exposures layout: a
    #: row per exposure, ``cnt`` 1; a row that is no exposure has ``cnt`` 0).
    exposure_cnt_one: bool = False
    #: 1 on the one row of a unit excluded for multiple exposures, on the day its second variant is
    #: first seen, that takes it out of its first variant; 0 on the others (a timeline under
    #: ``multiple_exposures: exclude``, exposures layout: each day excludes the units it should).
    leaves: str | None = None
