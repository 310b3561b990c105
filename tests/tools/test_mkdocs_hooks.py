"""The generated reference pages: every command, option, route and schema, read from the code."""

from __future__ import annotations

from typing import Any

from tools.mkdocs_hooks import (
    CLI_MARKER,
    OPENAPI_MARKER,
    cli_reference,
    on_page_markdown,
    openapi_reference,
    openapi_schema,
)


def _commands() -> dict[str, Any]:
    import typer

    from expsql.cli import _register_commands, app

    _register_commands()
    group = typer.main.get_command(app)
    context = group.context_class(group, info_name="expsql")
    return {name: group.get_command(context, name) for name in group.list_commands(context)}


def test_cli_reference_has_every_command_and_option_with_its_help() -> None:
    reference = cli_reference()
    commands = _commands()
    assert set(commands) == {
        "compile",
        "run",
        "demo",
        "dialects",
        "evaluate",
        "metrics",
        "serve",
        "check",
        "results",
    }
    for name, command in commands.items():
        assert f"## expsql {name}\n" in reference
        assert " ".join((command.help or "").split()) in reference
        for parameter in command.params:
            if "--help" in parameter.opts:
                continue
            if parameter.param_type_name == "argument":
                assert f"`{parameter.name.upper()} " in reference
            else:
                assert all(opt in reference for opt in parameter.opts), parameter.opts
                assert " ".join((parameter.help or "").split()).replace("|", "\\|")[:40] in reference


def test_openapi_reference_has_every_route_and_schema() -> None:
    schema = openapi_schema()
    reference = openapi_reference()
    for path, methods in schema["paths"].items():
        for method in methods:
            assert f"### `{method.upper()} {path}`" in reference
    for name, definition in schema["components"]["schemas"].items():
        assert f"\n### {name}\n" in reference
        for field in definition.get("properties", {}):
            assert f"| `{field}` |" in reference
    assert "/evaluate" in schema["paths"] and "Result" in schema["components"]["schemas"]


def test_markers_are_replaced_and_other_pages_left_alone() -> None:
    page = f"# CLI\n\n{CLI_MARKER}\n\n# REST\n\n{OPENAPI_MARKER}\n"
    rendered = on_page_markdown(page, page=None, config=None, files=None)
    assert CLI_MARKER not in rendered and OPENAPI_MARKER not in rendered
    assert "## expsql run" in rendered and "### `POST /evaluate`" in rendered
    assert on_page_markdown("# plain\n", page=None, config=None, files=None) == "# plain\n"
