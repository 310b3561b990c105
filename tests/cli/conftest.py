"""Running the ``expsql`` command in-process, through its real entry point and error boundary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from expsql.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "checkout.yaml"


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Invoke = Callable[..., Outcome]


@pytest.fixture
def invoke(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``invoke("run", ...)``: the exit code, stdout and stderr of one ``expsql`` command."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("EXPSQL_CONFIG", raising=False)

    def run(*argv: str | Path) -> Outcome:
        capsys.readouterr()
        try:
            main([str(arg) for arg in argv])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def write_experiment(directory: Path, **changes: object) -> Path:
    """The example experiment with ``changes``, written to ``directory/experiment.yaml``."""
    data = yaml.safe_load(EXAMPLE.read_text()) | changes
    path = directory / "experiment.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def broken_experiment(directory: Path) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["metrics"][1]["nominator"] = "value(user.unit.conversion) +"
    path = directory / "broken.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sample events in a DuckDB file (fewer units than ``expsql demo``, same shape)."""
    from expsql.demo import write_demo_database

    return write_demo_database(tmp_path_factory.mktemp("cli") / "demo.duckdb", units=8_000)
