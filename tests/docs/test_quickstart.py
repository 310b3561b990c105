"""The quickstart's two commands are the ones ``.ci/run`` runs, in the README and on the site alike."""

from __future__ import annotations

import re
import tomllib

from tests.docs.blocks import DOCS, ROOT, blocks, commands

EXTRAS = re.compile(r"'\.\[([a-z,]+)\]'")


def _quickstart(page: str) -> list[str]:
    """The commands of the page's first two blocks: the install line and the test command."""
    found = [block for block in blocks(ROOT / page) if block.language == "console"][:2]
    return [command.line for block in found for command in commands(block.text)]


def test_readme_and_site_show_the_same_two_commands() -> None:
    readme = _quickstart("README.md")
    assert readme == _quickstart(str(DOCS.relative_to(ROOT) / "index.md"))
    assert len(readme) == 2
    install, test = readme
    assert install.startswith("python3 -m venv .venv && .venv/bin/pip install -e '.[")
    assert install.endswith(" && .venv/bin/expsql demo")
    assert test == ".venv/bin/python -m pytest"


def test_ci_runs_the_quickstart_commands_with_the_same_extras() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    install, test = _quickstart("README.md")
    assert "python3 -m venv .venv" in ci
    assert EXTRAS.findall(install) == EXTRAS.findall(ci), "README and .ci/run install different extras"
    assert re.search(rf"^{re.escape(test)}$", ci, re.MULTILINE)
    assert "mkdocs build --strict" in ci and re.search(r"^\.venv/bin/mypy", ci, re.MULTILINE)


def test_every_extra_the_quickstart_installs_exists() -> None:
    install, _ = _quickstart("README.md")
    (extras,) = EXTRAS.findall(install)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(extras.split(",")) <= set(project["optional-dependencies"])


def test_the_readme_stays_a_quickstart_and_a_tour() -> None:
    size = len((ROOT / "README.md").read_bytes())
    assert size < 12_000, f"README.md is {size:,} bytes: move sections to docs/"
