"""What experiment filters cost on DuckDB: each scope against the same query without filters.

Builds the events table of ``shape.py`` (plus a ``platform`` column) and times goal, metric and
unit rows of one experiment without filters, with a goal filter (a WHERE conjunct), with an
exposure and a trigger filter (per-event flags, a HAVING or a window over the unit), and with all
three; best of ``--repeat`` round-robin rounds, printed as seconds and as the ratio to the
unfiltered query of the same contract. Unit rows are dominated by fetching their many rows, so
their ratios mostly say how many units a filter keeps.

Measured (2M events, 2 threads, a shared machine): goal filters ~1.0x; exposure or trigger
filters 1.4x for goal rows, 1.2x for metric rows.

Run: ``python benchmarks/filters.py [--events 10000000] [--threads 2] [--repeat 3]``.
"""

from __future__ import annotations

from shape import PLAIN, best_of, loaded_database

from expsql.compiler import compile_sql
from expsql.source import Source

GOAL = {"scope": "goal", "dimension": "product", "value": ["p_1", "p_2", "p_3", "p_4", "p_5"]}
EXPOSURE = {"scope": "exposure", "dimension": "platform", "value": ["web", "ios"]}
TRIGGER = {"scope": "trigger", "goal": "view"}
FILTERS = {
    "none": [],
    "goal": [GOAL],
    "exposure": [EXPOSURE],
    "trigger": [TRIGGER],
    "all": [GOAL, EXPOSURE, TRIGGER],
}


def main() -> None:
    arguments, connection = loaded_database(__doc__)
    connection.execute(
        "ALTER TABLE events ADD COLUMN platform VARCHAR DEFAULT 'web';"
        "UPDATE events SET platform = ['web', 'ios', 'android'][1 + (hash(unit_id || date) % 3)::INT]"
    )
    source = Source(dimensions={"product": "string", "platform": "string"})
    queries = {
        (rows, name): compile_sql(
            type(PLAIN).model_validate(PLAIN.model_dump() | {"filters": filters}), rows=rows, source=source
        )
        for rows in ("goals", "metrics", "units")
        for name, filters in FILTERS.items()
    }
    best = dict.fromkeys(queries, float("inf"))
    for _ in range(arguments.repeat):
        for key, sql in queries.items():
            best[key] = min(best[key], best_of(connection, sql, 1))
    print(f"{arguments.events:,} events, {arguments.threads} threads, best of {arguments.repeat}")
    for (rows, name), seconds in best.items():
        ratio = seconds / best[rows, "none"]
        print(f"{rows:8s} {name:9s} {seconds:6.2f} s  x{ratio:.2f}")


if __name__ == "__main__":
    main()
