"""A refresh that kills its own process at one step: ``python killed_refresh.py DIALECT TARGET
SCHEMA AS_OF STEP`` (the fault tests run it in a subprocess and read the state it leaves)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from expsql.dialects import get
from expsql.incremental import StateOptions, refresh
from tests.incremental.faults import EXPERIMENT, SOURCE, source_for


def main() -> None:
    dialect, target, schema, as_of, step = sys.argv[1:6]

    def die_at(name: str) -> None:
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)

    refresh(
        EXPERIMENT,
        get(dialect).connect(target),
        dialect=dialect,
        state=StateOptions(schema),
        source=source_for(SOURCE, dialect),
        as_of=dt.datetime.fromisoformat(as_of),
        on_step=die_at,
    )
    raise SystemExit(f"the refresh ran through: no step named {step!r}")


if __name__ == "__main__":
    main()
