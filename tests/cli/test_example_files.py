"""Every example file works with the demo data it names, through the real ``expsql`` command.

The example files are the files directly in ``examples/``: each is an experiment file (it has a
``control_variant``, as every experiment must), a metric catalog (``metrics`` and ``checks``
mapping names to definitions) or a source file. A folder in ``examples/`` is a
plugin package instead (``examples/expsql-dialect-sqlite``, installed and run by
``tests/engines/test_example_plugin.py``), never an example file.

An example file says how it runs in its leading comments: each comment line that starts with
``expsql`` (a trailing ``\\`` continues it on the next) is a command, run here as written, in a
workspace holding ``examples/``. A file with an ``expsql run`` command names its data as the
``expsql demo ...`` command (in backticks) that writes it; that command runs first, with fewer
units. Every experiment file has a run command, every source file is the ``--source`` of one, and
every catalog the ``--metrics`` of one.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from expsql.catalog import Catalog, load_catalog
from expsql.demo import demo_catalog, demo_experiment, write_demo_database
from expsql.models import Experiment, load_experiment, read_mapping
from expsql.source import load_source
from tests.cli.conftest import Invoke

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FILE_SUFFIXES = (".yaml", ".yml", ".toml", ".json")
#: Users in the demo data the examples run on: enough for every segment of every metric.
UNITS = "4000"
#: The demo's exposure attribute (:data:`expsql.demo.PLATFORMS`) and its segments.
PLATFORM_SEGMENTS = {"web", "ios", "android"}


@dataclass(frozen=True)
class Example:
    path: Path
    commands: list[list[str]]
    demo: list[str] | None

    @property
    def is_experiment(self) -> bool:
        return "control_variant" in read_mapping(self.path)

    @property
    def is_catalog(self) -> bool:
        data = read_mapping(self.path)
        return bool(data) and set(data) <= {"metrics", "checks"} and isinstance(data.get("metrics"), dict)

    def runs(self) -> list[list[str]]:
        return [command for command in self.commands if command[:2] == ["expsql", "run"]]


def _option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def _catalog_of(command: list[str]) -> Catalog | None:
    path = _option(command, "--metrics")
    return load_catalog(path) if path is not None else None


def _uses(option: str, name: str) -> bool:
    """Whether some example's run command passes the example file ``name`` as ``option``."""
    return any(
        Path(_option(command, option) or "").name == name
        for other in BY_NAME.values()
        for command in other.runs()
    )


def _example(path: Path) -> Example:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line.removeprefix("#").strip())
    commands: list[list[str]] = []
    pending = ""
    for line in header:
        if not pending and not line.startswith("expsql "):
            continue
        pending = f"{pending} {line}".strip()
        if pending.endswith("\\"):
            pending = pending.removesuffix("\\")
        else:
            commands.append(shlex.split(pending, comments=True))
            pending = ""
    named = re.search(r"`(expsql demo [^`]*)`", " ".join(header))
    return Example(path, commands, shlex.split(named.group(1)) if named else None)


EXAMPLE_FILES = sorted(path for path in EXAMPLES.iterdir() if path.is_file() and path.suffix in FILE_SUFFIXES)
BY_NAME = {path.name: _example(path) for path in EXAMPLE_FILES}


def test_examples_hold_example_files_and_plugin_packages_only() -> None:
    assert {
        "checkout.yaml",
        "checkout-attribution.yaml",
        "checkout-catalog.yaml",
        "exposures-source.yaml",
        "metrics.yaml",
    } <= set(BY_NAME)
    for path in EXAMPLES.iterdir():
        if path in EXAMPLE_FILES or path.name.startswith("."):
            continue
        assert path.is_dir() and (path / "pyproject.toml").exists(), f"{path.name} is no example file"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_example_file_says_how_it_runs(name: str) -> None:
    example = BY_NAME[name]
    assert all(command[0] == "expsql" for command in example.commands)
    if example.is_experiment:
        assert example.runs(), f"{name} shows no `expsql run` command on demo data"
        for command in example.runs():
            load_experiment(example.path, catalog=_catalog_of(command))
    elif example.is_catalog:
        load_catalog(example.path)
        assert _uses("--metrics", name), f"no example runs with the metric catalog {name}"
    else:
        load_source(example.path)
        assert _uses("--source", name), f"no example runs with the source file {name}"
    if example.runs():
        assert example.demo is not None, f"{name} runs on demo data but names no `expsql demo ...`"


def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work in ``tmp_path``, which holds ``examples/`` as the commands name it."""
    (tmp_path / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    monkeypatch.chdir(tmp_path)


def _check_run(invoke: Invoke, command: list[str], experiment: Experiment) -> None:
    """The run as written prints the scorecard; as JSON, every metric of every variant has a
    finite mean and a p-value, and a breakdown has every platform's segments."""
    as_written = invoke(*command[1:])
    assert as_written.code == 0, as_written.err
    assert experiment.id in as_written.out and "Metric" in as_written.out
    outcome = invoke(*command[1:], "--format", "json")
    assert outcome.code == 0, outcome.err
    document: dict[str, Any] = json.loads(outcome.out)
    assert document["id"] == experiment.id
    variants = experiment.variants or []
    assert {m["metric_id"] for m in document["metrics"]} == {m.id for m in experiment.metrics}
    assert {m["exp_variant_id"] for m in document["metrics"]} == set(variants)
    assert all(math.isfinite(m["mean"]) and 0 <= m["p_value"] <= 1 for m in document["metrics"])
    assert all(e["exposures"] > 0 for e in document["exposures"])
    if "--breakdown" in command:
        breakdowns = document["breakdowns"]
        assert breakdowns["dimensions"] == [command[command.index("--breakdown") + 1]]
        assert {m["segment"] for m in breakdowns["metrics"]} >= PLATFORM_SEGMENTS


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_example_command_runs_on_the_demo_data_it_names(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    example = BY_NAME[name]
    _workspace(tmp_path, monkeypatch)
    if example.runs():
        assert example.demo is not None
        written = invoke(*example.demo[1:], "--units", UNITS)
        assert written.code == 0, written.err
    for command in example.commands:
        if command[1] == "run":
            experiment = load_experiment(command[2], catalog=_catalog_of(command))
            _check_run(invoke, command, experiment)
        else:
            outcome = invoke(*command[1:])
            assert outcome.code == 0, outcome.err
            if command[1] == "compile":
                assert "SELECT" in outcome.out


def test_checkout_attribution_breaks_down_by_platform_on_the_exposures_demo(
    invoke: Invoke, tmp_path: Path
) -> None:
    database = write_demo_database(tmp_path / "demo.duckdb", units=int(UNITS), layout="exposures")
    outcome = invoke(
        "run", EXAMPLES / "checkout-attribution.yaml", "--source", EXAMPLES / "exposures-source.yaml",
        "--metrics", EXAMPLES / "metrics.yaml", "--breakdown", "platform",
        "--dialect", "duckdb", "--connect", database, "--format", "json",
    )  # fmt: skip
    assert outcome.code == 0, outcome.err
    segments = {m["segment"] for m in json.loads(outcome.out)["breakdowns"]["metrics"]}
    assert segments >= PLATFORM_SEGMENTS


def test_the_demo_catalog_is_the_example_catalog() -> None:
    assert load_catalog(EXAMPLES / "metrics.yaml").model_dump(
        exclude={"origin"}
    ) == demo_catalog().model_dump(exclude={"origin"})


def test_the_catalog_example_is_the_checkout_example_by_name() -> None:
    by_name = load_experiment(
        EXAMPLES / "checkout-catalog.yaml", catalog=load_catalog(EXAMPLES / "metrics.yaml")
    )
    written_out = load_experiment(EXAMPLES / "checkout.yaml")
    assert by_name == written_out
    assert demo_experiment() == written_out


def test_checkout_attribution_uses_one_catalog_metric_twice_under_two_ids() -> None:
    experiment = load_experiment(
        EXAMPLES / "checkout-attribution.yaml", catalog=load_catalog(EXAMPLES / "metrics.yaml")
    )
    revenue = [m for m in experiment.metrics if m.nominator == "value(user.unit.conversion)"]
    assert [m.id for m in revenue] == [2, "revenue_per_user_24h"]
    assert [m.conversion_window_hours for m in revenue] == [None, 24]
