"""Docs that cannot lie: every command and Python example of the site and the README runs here.

Each page gets a workspace of its own, in a temporary directory: ``examples/`` (the repository's),
``demo.duckdb`` (the demo's sample events, as ``expsql demo --path demo.duckdb`` writes them) and
whatever the page's earlier blocks wrote. Blocks run in page order; see :mod:`tests.docs.blocks`
for what each kind of block does and how shown output is compared.

Plain ``expsql ...`` commands run in-process through the real entry point (an interpreter start
per command would cost more than the examples themselves); anything with shell syntax runs in
bash with the virtual environment's ``bin`` first on ``PATH``. A page whose ``server`` block starts
``expsql serve`` talks to it on a free port: ``8080`` in that page's commands and outputs is
replaced by the port the server took.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.docs.blocks import (
    FORBIDDEN,
    PAGES,
    ROOT,
    Block,
    blocks,
    commands,
    first_mismatch,
    output_matches,
)

ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]
RUNNABLE = [block for block in ALL_BLOCKS if block.runs]
SKIPPED = [block for block in ALL_BLOCKS if "skip" in block.options]
SHELL_OPERATORS = frozenset({"|", "||", "&&", ";", ">", ">>", "<", "2>&1", "&"})
COMMAND_TIMEOUT = 120


@dataclass
class Page:
    """The state a page's blocks share: its workspace, its Python namespace, its server."""

    workspace: Path
    namespace: dict[str, Any] = field(default_factory=dict)
    server: subprocess.Popen[str] | None = None
    port: int | None = None

    def close(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sample events, written once (as ``expsql demo`` writes them, same units)."""
    from expsql.demo import write_demo_database
    from expsql.server.factory import DEMO_UNITS

    return write_demo_database(tmp_path_factory.mktemp("docs-demo") / "demo.duckdb", units=DEMO_UNITS)


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory, demo_database: Path) -> Iterator[dict[Path, Page]]:
    opened: dict[Path, Page] = {}

    class Pages(dict[Path, Page]):
        def __missing__(self, page: Path) -> Page:
            workspace = tmp_path_factory.mktemp(page.stem)
            (workspace / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
            shutil.copyfile(demo_database, workspace / "demo.duckdb")
            opened[page] = self[page] = Page(workspace)
            return self[page]

    yield Pages()
    for state in opened.values():
        state.close()


def _with_port(text: str, page: Page) -> str:
    return text.replace("8080", str(page.port)) if page.port is not None else text


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.name for block in RUNNABLE])
def test_example(
    block: Block, pages: dict[Path, Page], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = pages[block.page]
    monkeypatch.chdir(page.workspace)
    for variable in ("COLUMNS", "EXPSQL_CONFIG", "PGPASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    if "file" in block.options:
        target = page.workspace / block.options["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.parent.resolve().is_relative_to(ROOT):
            raise AssertionError(f"{block.name}: file= must not write into the repository: {target}")
        target.write_text(block.text, encoding="utf-8")
    elif "server" in block.options:
        _start_server(block, page)
    elif block.language == "console":
        _run_console(block, page, capsys)
    elif block.language == "python":
        exec(compile(block.text, block.name, "exec"), page.namespace)
    elif block.language == "pycon":
        _run_doctest(block, page)


def _run_console(block: Block, page: Page, capsys: pytest.CaptureFixture[str]) -> None:
    expected_status = int(block.options.get("exit", "0"))
    for command in commands(block.text):
        line = _with_port(command.line, page)
        status, output = _in_process(line, capsys) if _plain(line) else _in_shell(line, page)
        assert status == expected_status, (
            f"{block.name}: `{line}` exited {status}, expected {expected_status}\n{output}"
        )
        if "output-varies" in block.options:
            continue
        expected = _with_port(command.expected, page)
        assert output_matches(expected, output), (
            f"{block.name}: `{line}`: {first_mismatch(expected, output)}; it printed\n{output}"
        )


def _plain(line: str) -> bool:
    """An ``expsql`` command without shell syntax, which runs in-process."""
    if "$" in line or "`" in line or "\\\n" in line:
        return False
    try:
        words = shlex.split(line)
    except ValueError:
        return False
    return bool(words) and words[0] == "expsql" and not SHELL_OPERATORS.intersection(words)


def _in_process(line: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from expsql.cli import main

    capsys.readouterr()
    merged = io.StringIO()
    status = 0
    with contextlib.redirect_stdout(merged), contextlib.redirect_stderr(merged):
        try:
            main(shlex.split(line)[1:])
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
    return status, merged.getvalue()


def _environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "EXPSQL_CONFIG"}}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def _in_shell(line: str, page: Page) -> tuple[int, str]:
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        cwd=page.workspace,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    return done.returncode, done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_server(block: Block, page: Page) -> None:
    """Start the block's one command in the background; wait until ``/health`` answers."""
    (command,) = commands(block.text)
    assert page.server is None, f"{block.name}: a page starts one server"
    page.port = _free_port()
    output = page.workspace / "server.log"
    page.server = subprocess.Popen(
        ["bash", "-c", f"exec {_with_port(command.line, page)}"],
        cwd=page.workspace,
        env=_environment(),
        stdout=output.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{page.port}/health", timeout=2):
                break
        except OSError:
            if page.server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{block.name}: the server did not start\n{output.read_text()}")
            time.sleep(0.2)
    shown = _with_port(command.expected, page) + "\n…"
    printed = output.read_text()
    assert output_matches(shown, printed), f"{block.name}: the server printed\n{printed}"


def _run_doctest(block: Block, page: Page) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.text, page.namespace, block.name, str(block.page), block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = io.StringIO()
    previous = Path.cwd()
    try:
        runner.run(test, out=report.write, clear_globs=False)
        page.namespace.update(test.globs)  # a DocTest works on a copy of the namespace
    finally:
        os.chdir(previous)
    assert not runner.failures, f"{block.name}:\n{report.getvalue()}"


@pytest.mark.parametrize("block", SKIPPED, ids=[block.name for block in SKIPPED])
def test_skipped_example_says_why(block: Block) -> None:
    assert block.options["skip"], f"{block.name}: skip= needs a reason"
    pytest.skip(f"{block.name} not run: {block.options['skip']}")


def test_no_command_hides_in_a_block_that_does_not_run() -> None:
    hidden = [block.name for block in ALL_BLOCKS if block.language in FORBIDDEN]
    assert not hidden, f"shell blocks are not executed; write them as console blocks: {hidden}"
    untagged = [block.name for block in ALL_BLOCKS if block.language == "" and block.text.startswith("$ ")]
    assert not untagged, f"commands in blocks without a language: {untagged}"


def test_the_docs_hold_examples_on_every_page_that_promises_them() -> None:
    assert len(RUNNABLE) >= 40, f"only {len(RUNNABLE)} examples run"
    pages_with_examples = {block.page.name for block in RUNNABLE}
    for name in ("README.md", "index.md", "language.md", "notebook.md", "statistics.md", "rest.md"):
        assert name in pages_with_examples, f"{name} runs no example"
