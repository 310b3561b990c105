"""Meta-tests on the hook specifications: each is documented where plugin authors read."""

from __future__ import annotations

import inspect
from pathlib import Path

import pluggy
import pytest

import expsql.dialects
from expsql.dialects import hookspecs

# The guide is the section "Writing a dialect plugin" of the documentation site (docs/dialects.md).
PLUGIN_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "dialects.md"
HOOKS = [
    function
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(function, f"{hookspecs.PROJECT_NAME}_spec")
]


def test_there_is_a_hook() -> None:
    assert [hook.__name__ for hook in HOOKS] == ["expsql_dialects"]


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: hook.__name__)
def test_hook_docstring_says_what_it_returns(hook: object) -> None:
    doc = inspect.getdoc(hook) or ""
    assert doc.splitlines()[0].endswith(".")
    assert ":return:" in doc


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: hook.__name__)
def test_hook_signature_is_shown_in_the_plugin_guide(hook: object) -> None:
    signature = f"def {hook.__name__}{inspect.signature(hook)}".replace("'", "")  # type: ignore[attr-defined]
    assert signature in PLUGIN_GUIDE.read_text()


def test_hookimpl_is_exported_from_the_dialects_package() -> None:
    assert expsql.dialects.hookimpl is hookspecs.hookimpl
    assert isinstance(expsql.dialects.hookimpl, pluggy.HookimplMarker)
    assert expsql.dialects.hookimpl.project_name == "expsql"
