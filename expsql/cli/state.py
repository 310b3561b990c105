"""The options of ``expsql run --incremental`` (:mod:`expsql.incremental`) and where they lead:
the state's schema and late-arrival margin, or a full run."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from expsql.errors import ExpsqlError

if TYPE_CHECKING:
    from expsql.incremental import StateOptions

IncrementalOption = Annotated[
    bool | None,
    typer.Option(
        "--incremental/--no-incremental",
        help="Refresh incrementally: keep the experiment's state in the warehouse and read only the "
        "rows since the last refresh plus the late-arrival margin; the rows equal a full run's "
        "[default: the experiment's incremental]",
    ),
]
StateSchemaOption = Annotated[
    str | None,
    typer.Option(
        "--state-schema",
        metavar="SCHEMA",
        help="Incremental: the schema the state is kept in; the warehouse user creates and drops "
        "tables there [default: config [state] schema].",
    ),
]
FullRefreshOption = Annotated[
    bool,
    typer.Option(
        "--full-refresh", help="Incremental: rebuild the state from the whole window, then refresh from it."
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="TIMESTAMP",
        help="Incremental: the moment the data is complete up to, an ISO timestamp (UTC unless it "
        "names an offset), for backfills and tests [default: now]",
    ),
]
LateArrivalOption = Annotated[
    float | None,
    typer.Option(
        "--late-arrival-hours",
        min=0,
        help="Incremental: events arriving up to this many hours after their timestamp are counted "
        "exactly; later ones wait for --full-refresh [default: config [state] late_arrival_hours, else 48]",
    ),
]


def parse_as_of(text: str) -> dt.datetime:
    """``--as-of``'s ISO timestamp as a naive UTC datetime (a date alone is its midnight)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExpsqlError(
            f"--as-of {text!r}: give an ISO timestamp, e.g. 2026-11-10T06:00 or 2026-11-10T06:00+01:00"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def given_state_options(
    state_schema: str | None, full_refresh: bool, as_of: str | None, late_arrival_hours: float | None
) -> list[str]:
    """The incremental options given on the command line, by name."""
    given = {
        "--state-schema": state_schema is not None,
        "--full-refresh": full_refresh,
        "--as-of": as_of is not None,
        "--late-arrival-hours": late_arrival_hours is not None,
    }
    return [name for name, present in given.items() if present]


def state_options(
    incremental: bool, schema: str | None, late_arrival_hours: float, *, given: list[str]
) -> StateOptions | None:
    """Where an incremental run keeps its state (``None``: a full run).

    :raises ExpsqlError: incremental without a state schema, or an incremental option without it.
    """
    if not incremental:
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise ExpsqlError(
                f"{', '.join(given)} {verb} to an incremental refresh only: add --incremental "
                "(or incremental: true in the experiment file)"
            )
        return None
    from expsql.incremental import IncrementalError, StateOptions

    if schema is None:
        raise IncrementalError(
            "an incremental refresh keeps its state in the warehouse: say where with --state-schema "
            '(or schema in the [state] table of expsql.toml, e.g. schema = "expsql_state")'
        )
    return StateOptions(schema, late_arrival_hours=late_arrival_hours)
