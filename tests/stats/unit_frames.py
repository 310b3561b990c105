"""Unit rows computed from attributed events by pandas, for the stats and CLI tests.

Independent of the compiler: the goal masks and per-unit sums of :mod:`tests.reference`, one row
per unit and goal term labelled as goal rows are (the goal's ep-stats label in each dimension
column it filters on, ``''`` elsewhere).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expsql.contracts import UNIT_KEYS, UNIT_VALUES
from expsql.models import Experiment
from expsql.source import Source
from tests.events import DIMENSION_TYPES
from tests.reference import experiment_events, goal_mask, per_unit_sums

#: The source describing :func:`tests.events.generate_events`.
SOURCE = Source(dimensions=DIMENSION_TYPES)


def unit_rows(
    events: pd.DataFrame, definition: Experiment, source: Source = SOURCE, seed: int = 0
) -> pd.DataFrame:
    """One row per unit and goal term (labelled as goal rows are), split in pieces, plus noise."""
    scoped = experiment_events(events, definition, source)
    dimensions = definition.dimension_names()
    parts = []
    for key in definition.goal_keys():
        sums = per_unit_sums(scoped[goal_mask(scoped, key, source)], source).reset_index()
        labels = key.dimension_labels
        part = pd.DataFrame(
            {
                "exp_id": definition.id,
                "exp_variant_id": sums["variant"],
                "unit_type": key.unit_type,
                "agg_type": key.agg_type,
                "goal": key.goal,
                "unit_id": sums["unit"],
                **{d: labels.get(d, "") for d in dimensions},
                "count": sums["cnt"],
                "sum_value": sums["value"],
            }
        )
        parts.append(part)
    rows = pd.concat(parts, ignore_index=True)
    rng = np.random.default_rng(seed)
    # Rows of one unit and goal term in two pieces: they must be summed before any squaring.
    halves = rows.sample(frac=0.5, random_state=seed)
    share = rng.random(len(halves))
    pieces = halves.assign(count=np.floor(halves["count"] * share), sum_value=halves["sum_value"] * share)
    rows.loc[halves.index, "count"] -= pieces["count"]
    rows.loc[halves.index, "sum_value"] -= pieces["sum_value"]
    # Rows no goal term reads: another goal, another label, another unit type.
    noise = rows.sample(n=50, random_state=seed + 1).assign(goal="noise")
    other_type = rows.sample(n=50, random_state=seed + 3).assign(unit_type="session")
    mixed = [rows, pieces, noise, other_type]
    if dimensions:
        mixed.append(rows.sample(n=50, random_state=seed + 2).assign(**dict.fromkeys(dimensions, "zzz")))
    mixed = pd.concat(mixed, ignore_index=True)
    shuffled = mixed.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return shuffled[[*UNIT_KEYS, *dimensions, *UNIT_VALUES]]
