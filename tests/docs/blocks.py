"""The fenced code blocks of the documentation, as the docs runner reads them.

A block is executed according to its language:

- ``console``: a shell session. Each ``$ `` line is a command (a trailing ``\\`` continues it on the
  next line); the lines up to the next command are its output, stdout and stderr together.
- ``python``: executed in the page's namespace, in order, like the cells of a notebook.
- ``pycon``: ``>>>`` prompts and their output, checked by :mod:`doctest` in the same namespace.

An HTML comment on the line before the fence, invisible on the site, says more:
``<!-- docs-test: output-varies -->`` (run, do not compare the output), ``exit=2`` (the status the
command ends with), ``file=examples/x.yaml`` (write the block into the page's workspace: data and
configuration blocks that later commands read), ``server`` (start the block's command in the
background as the page's REST server), ``skip=why`` (not run here, with the reason). Several are
separated by ``;``.

Shown output is compared line by line, trailing spaces ignored; ``…`` stands for any text within
a line, and a line holding only ``…`` for any number of lines.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Every page whose examples run: the site's pages and the README.
PAGES: tuple[Path, ...] = (ROOT / "README.md", *sorted(DOCS.rglob("*.md")))
#: Languages that are executed; any other block is text, unless a ``file=`` annotation writes it.
EXECUTED = frozenset({"console", "python", "pycon"})
#: Shell languages that must not appear: commands belong in ``console`` blocks, which run.
FORBIDDEN = frozenset({"bash", "sh", "shell", "shell-session", "zsh"})

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[^\n]*$")
_ANNOTATION = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its text and its annotations."""

    page: Path
    line: int
    language: str
    text: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        return (self.language in EXECUTED or "file" in self.options) and "skip" not in self.options


@dataclass(frozen=True)
class Command:
    """One ``$`` command of a console block and the output shown under it."""

    line: str
    expected: str


def parse_options(body: str) -> dict[str, str]:
    options = {}
    for item in filter(None, (part.strip() for part in body.split(";"))):
        key, _, value = item.partition("=")
        options[key.strip()] = value.strip()
    return options


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` in order, each with the annotation on the line before it."""
    lines = page.read_text(encoding="utf-8").split("\n")
    found = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body = []
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end][len(indent) :] if lines[end].startswith(indent) else lines[end])
            end += 1
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        annotation = _ANNOTATION.match(previous)
        options = parse_options(annotation["body"]) if annotation else {}
        text = "\n".join(body) + "\n" if body else ""
        found.append(Block(page, index + 1, opening["lang"].lower(), text, options))
        index = end + 1
    return found


def _incomplete(lines: list[str]) -> bool:
    """Whether a command goes on on the next line: a trailing backslash or an open quote."""
    if lines[-1].endswith("\\"):
        return True
    try:
        shlex.split("\n".join(lines))
    except ValueError:
        return True
    return False


def commands(text: str) -> list[Command]:
    """The commands of a console block with the output shown under each."""
    found: list[Command] = []
    current: list[str] | None = None
    output: list[str] = []
    continuing = False
    for line in text.rstrip("\n").split("\n"):
        if continuing and current is not None:
            current.append(line)
            continuing = _incomplete(current)
        elif line.startswith("$ "):
            if current is not None:
                found.append(Command("\n".join(current), "\n".join(output)))
            current, output = [line[2:]], []
            continuing = _incomplete(current)
        elif current is not None:
            output.append(line)
    if current is not None:
        found.append(Command("\n".join(current), "\n".join(output)))
    return found


def output_pattern(expected: str) -> re.Pattern[str]:
    """A regex for shown output: ``…`` is any text in a line, a line of only ``…`` any lines."""
    parts = []
    for line in _normalise(expected).split("\n") if expected.strip() else []:
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(piece) for piece in line.split("…")) + r"\n")
    return re.compile("".join(parts))


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def output_matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is what ``expected`` shows (trailing spaces and blank edges ignored)."""
    shown = _normalise(actual) + "\n" if actual.strip() else ""
    return output_pattern(expected).fullmatch(shown) is not None


def first_mismatch(expected: str, actual: str) -> str:
    """The first shown line the output does not match, for the failure message."""
    shown = _normalise(actual) + "\n" if actual.strip() else ""
    lines = _normalise(expected).split("\n")
    for count in range(1, len(lines) + 1):
        head = "\n".join([*lines[:count], "…"])
        if output_pattern(head).fullmatch(shown) is None:
            return f"line {count} of the shown output does not match: {lines[count - 1]!r}"
    return "the output goes on after the shown lines"
