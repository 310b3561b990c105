"""How long compiling takes: experiments of 10, 100 and 1,000 metrics, every registered dialect.

Each metric reads its own dimensional goal term and shares the exposure denominator, so the
query grows with the number of metrics (1,000 terms, 1,000 per-unit expressions). The time is
the best of ``--repeat`` runs of :func:`expsql.compiler.compile_sql` (plan, tree and rendering);
the column ``cpu@1000`` is the process CPU time of the 1,000-metric compile (a fairer figure on a
busy machine), the last column the ratio 1000/100, which stays near 10 when compiling is linear.

``--rendering`` prints instead, per dialect, the 1,000-metric metric-rows tree rendered by expsql's
fast path (:mod:`expsql.dialects.rendering`) and by sqlglot's full generator, alternated on the same
tree, and their ratio: a figure a busy machine slows on both sides.

``--overlapping`` gives every other metric a ``price>i`` term instead, so terms overlap and metric
rows take the coded scan (:mod:`expsql.compiler.term_codes`); ``--sizes`` adds sizes (10,000:
linear when the last ratio stays near 10).

Run: ``python benchmarks/compile.py [--repeat 3] [--rows goals metrics] [--overlapping]
[--sizes 10 100 1000 10000] [--dialects duckdb snowflake] [--rendering]``.
"""

from __future__ import annotations

import argparse
import gc
import time
from functools import partial

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from expsql.compiler import ROWS, compile_sql, compile_tree
from expsql.dialects import available, get
from expsql.models import Experiment
from expsql.source import Source

SIZES = (10, 100, 1000)
GOALS = ("click", "view", "conversion", "refund", "checkout")
SOURCE = Source(dimensions={"product": "string", "price": "integer"})


def experiment(metrics: int, overlapping: bool = False) -> Experiment:
    """``metrics`` metrics: value or count of a goal filtered to one product (or, every other one
    when ``overlapping``, to ``price>i``), per exposure."""

    def nominator(i: int) -> str:
        function = "value" if i % 2 else "count"
        dimension = f"price>{i}" if overlapping and i % 2 else f"product=p_{i}"
        return f"{function}(user.unit.{GOALS[i % len(GOALS)]}({dimension}))"

    return Experiment(
        id="benchmark",
        control_variant="a",
        unit_type="user",
        metrics=[
            {
                "id": i,
                "name": f"metric {i}",
                "nominator": nominator(i),
                "denominator": "count(user.global.exposure)",
            }
            for i in range(metrics)
        ],
    )


def best_of(definition: Experiment, dialect: str, rows: str, repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeat`` compiles."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        compile_sql(definition, dialect=dialect, rows=rows, source=SOURCE)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def generate(dialect: sqlglot.Dialect, tree: exp.Expression) -> str:
    return dialect.generate(tree, copy=True, pretty=True, unsupported_level=ErrorLevel.RAISE)


def rendering(definition: Experiment, dialects: list[str], repeat: int) -> None:
    """Best CPU seconds rendering one metric-rows tree, fast path against sqlglot's generator."""
    print(f"{'dialect':12s}{'fast':>9s}{'sqlglot':>9s}{'ratio':>8s}")
    for name in dialects:
        dialect = get(name)
        tree = compile_tree(definition, rows="metrics", source=SOURCE, dialect=dialect)
        fast, full = [], []
        for _ in range(repeat):
            for times, render in ((fast, dialect.render), (full, partial(generate, dialect.sqlglot))):
                gc.collect()
                gc.disable()  # as compile_sql does, and each side copies the tree
                start = time.process_time()
                render(tree)
                times.append(time.process_time() - start)
                gc.enable()
        print(f"{name:12s}{min(fast):8.3f}s{min(full):8.3f}s{min(fast) / min(full):8.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS))
    parser.add_argument("--dialects", nargs="+", default=None, help="default: every registered one")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--overlapping", action="store_true")
    parser.add_argument("--rendering", action="store_true", help="fast path vs sqlglot's generator")
    arguments = parser.parse_args()
    if arguments.rendering:
        dialects = arguments.dialects or available()
        rendering(experiment(1000, arguments.overlapping), dialects, arguments.repeat)
        return
    sizes = sorted(arguments.sizes)
    experiments = {size: experiment(size, arguments.overlapping) for size in sizes}
    header = f"{'dialect':12s} {'rows':8s}" + "".join(f"{size:>9d}" for size in sizes)
    growth = f"{sizes[-1]}/{sizes[-2]}" if len(sizes) > 1 else ""  # linear when it stays near the size ratio
    header += f"{'cpu@1000':>10s}{growth:>12s}"
    print(header + "\n" + "-" * len(header))
    for rows in arguments.rows:
        for dialect in arguments.dialects or available():
            timings = {size: best_of(experiments[size], dialect, rows, arguments.repeat) for size in sizes}
            cells = "".join(f"{timings[size][0]:8.3f}s" for size in sizes)
            ratio = f"{timings[sizes[-1]][0] / timings[sizes[-2]][0]:12.1f}" if growth else ""
            cpu = timings[1000][1] if 1000 in timings else float("nan")
            print(f"{dialect:12s} {rows:8s}{cells}{cpu:9.3f}s{ratio}", flush=True)


if __name__ == "__main__":
    main()
