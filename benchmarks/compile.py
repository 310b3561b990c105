"""How long compiling takes: experiments of 10, 100 and 1,000 metrics, every registered dialect.

Each metric reads its own dimensional goal term and shares the exposure denominator, so the
query grows with the number of metrics (1,000 terms, 1,000 per-unit expressions). The time is
the best of ``--repeat`` runs of :func:`expsql.compiler.compile_sql` (plan, tree and rendering);
the column ``cpu@1000`` is the process CPU time of the 1,000-metric compile (a fairer figure on a
busy machine), the last column the ratio 1000/100, which stays near 10 when compiling is linear.

Run: ``python benchmarks/compile.py [--repeat 3] [--rows goals metrics]``.
"""

from __future__ import annotations

import argparse
import time

from expsql.compiler import ROWS, compile_sql
from expsql.dialects import available
from expsql.models import Experiment

SIZES = (10, 100, 1000)
GOALS = ("click", "view", "conversion", "refund", "checkout")


def experiment(metrics: int) -> Experiment:
    """``metrics`` metrics: value or count of a goal filtered to one product, per exposure."""

    def nominator(i: int) -> str:
        function = "value" if i % 2 else "count"
        return f"{function}(user.unit.{GOALS[i % len(GOALS)]}(product=p_{i}))"

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
        compile_sql(definition, dialect=dialect, rows=rows)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=list(ROWS))
    arguments = parser.parse_args()
    experiments = {size: experiment(size) for size in SIZES}
    header = f"{'dialect':12s} {'rows':8s}" + "".join(f"{size:>9d}" for size in SIZES)
    header += f"{'cpu@1000':>10s}{'1000/100':>10s}"
    print(header + "\n" + "-" * len(header))
    for rows in arguments.rows:
        for dialect in available():
            timings = {size: best_of(experiments[size], dialect, rows, arguments.repeat) for size in SIZES}
            cells = "".join(f"{timings[size][0]:8.3f}s" for size in SIZES)
            ratio = timings[1000][0] / timings[100][0]
            print(f"{dialect:12s} {rows:8s}{cells}{timings[1000][1]:9.3f}s{ratio:10.1f}")


if __name__ == "__main__":
    main()
