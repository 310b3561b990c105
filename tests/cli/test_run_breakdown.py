"""``expsql run --breakdown``: the overall scorecard first, then one table per dimension; an
undeclared dimension is a message naming the fix, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Invoke, write_experiment

SOURCE = "table: events\ndimensions: {product: string, element: string, platform: string}\n"


def run(invoke: Invoke, tmp_path: Path, demo_database: Path, *extra: str):  # type: ignore[no-untyped-def]
    source = tmp_path / "source.yaml"
    source.write_text(SOURCE)
    experiment = write_experiment(tmp_path)
    base = ["run", experiment, "--dialect", "duckdb", "--connect", demo_database, "--source", source]
    return invoke(*base, *extra)


def test_breakdown_prints_the_overall_result_then_each_segment(
    invoke: Invoke, tmp_path: Path, demo_database: Path
) -> None:
    outcome = run(invoke, tmp_path, demo_database, "--breakdown", "platform")
    assert outcome.code == 0, outcome.err
    overall, by_platform = outcome.out.split("by platform")
    assert "Conversion rate" in overall and "(null)" not in overall
    assert "units: web" in by_platform and "(null)" in by_platform
    assert "web · b" in by_platform and "SRM: pass in every segment" in by_platform


def test_breakdown_json_holds_every_segment(invoke: Invoke, tmp_path: Path, demo_database: Path) -> None:
    outcome = run(invoke, tmp_path, demo_database, "--breakdown", "platform", "--format", "json")
    assert outcome.code == 0, outcome.err
    body = json.loads(outcome.out)
    assert body["breakdowns"]["dimensions"] == ["platform"]
    segments = {row["segment"] for row in body["breakdowns"]["exposures"]}
    assert segments == {"web", "ios", "android", "(null)"}


def test_an_undeclared_dimension_is_a_message_and_exit_2(
    invoke: Invoke, tmp_path: Path, demo_database: Path
) -> None:
    outcome = run(invoke, tmp_path, demo_database, "--breakdown", "platfrom")
    assert outcome.code == 2
    assert "Did you mean 'platform'?" in outcome.err
    assert "Traceback" not in outcome.err + outcome.out


def test_a_repeated_dimension_is_refused(invoke: Invoke, tmp_path: Path, demo_database: Path) -> None:
    outcome = run(invoke, tmp_path, demo_database, "--breakdown", "platform", "--breakdown", "platform")
    assert outcome.code == 2
    assert "more than once" in outcome.err
