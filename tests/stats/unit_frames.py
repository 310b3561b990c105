"""Unit rows computed from attributed events by pandas, for the stats and CLI tests.

Independent of the compiler: :func:`expsql.testing.reference.unit_rows` (one row per unit and goal term,
labelled as goal rows are), then split into pieces and mixed with rows no goal term reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expsql.contracts import UNIT_KEYS, UNIT_VALUES
from expsql.models import Experiment
from expsql.source import Source
from expsql.testing.events import DIMENSION_TYPES
from expsql.testing.reference import unit_rows as reference_unit_rows

#: The source describing :func:`expsql.testing.events.generate_events`.
SOURCE = Source(dimensions=DIMENSION_TYPES)


def unit_rows(
    events: pd.DataFrame, definition: Experiment, source: Source = SOURCE, seed: int = 0
) -> pd.DataFrame:
    """One row per unit and goal term (labelled as goal rows are), split in pieces, plus noise."""
    rows = reference_unit_rows(events, definition, source)
    dimensions = definition.dimension_names()
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
