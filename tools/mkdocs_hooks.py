"""MkDocs hooks: the reference pages that are generated from the code, at every build.

- ``<!-- generated: cli -->`` becomes the CLI reference, read from the ``expsql`` command itself
  (typer's click commands: usage, help, every argument and option with its default);
- ``<!-- generated: openapi -->`` becomes the REST reference, read from the app's OpenAPI schema
  (every route, its body and answers, every schema's fields); the schema itself is published
  beside the page as ``openapi.json``.

Nothing here is typed by hand, so the reference cannot drift from the code.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

CLI_MARKER = "<!-- generated: cli -->"
OPENAPI_MARKER = "<!-- generated: openapi -->"


def _cell(text: object) -> str:
    """Text for one markdown table cell: pipes escaped, newlines folded."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _command_group() -> Any:
    """The ``expsql`` command group (typer's click objects, read by their click attributes)."""
    import typer

    from expsql.cli import _register_commands, app

    _register_commands()
    return typer.main.get_command(app)


def cli_reference() -> str:
    """Markdown for every ``expsql`` command, from the command objects themselves."""
    group = _command_group()
    root = group.context_class(group, info_name="expsql")
    parts = [
        f"`expsql` — {_cell(group.help or '')}",
        "",
        "Every command exits with status 2 and a one-line message (an expression error with its caret) "
        "on stderr when its input is wrong.",
    ]
    for name in group.list_commands(root):
        command = group.get_command(root, name)
        assert command is not None
        context = command.context_class(command, info_name=name, parent=root)
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        usage = " ".join(["[OPTIONS]", *((p.name or "").upper() for p in arguments)])
        parts += ["", f"## expsql {name}", "", "```text", f"expsql {name} {usage}", "```", ""]
        parts.append(_cell(command.help or ""))
        rows = []
        for parameter in command.params:
            if parameter.param_type_name == "argument":
                # The help text exactly as ``expsql NAME --help`` shows it.
                shown = f"{(parameter.name or '').upper()} {parameter.display_type(context)}"
                help_text = f"{parameter.help or ''} (required)" if parameter.required else parameter.help
            else:
                record = parameter.get_help_record(context)
                if record is None or "--help" in parameter.opts:
                    continue
                shown, help_text = record
            rows.append(f"| `{shown}` | {_cell(help_text or '')} |")
        if rows:
            parts += ["", "| argument or option | what |", "|---|---|", *rows]
    return "\n".join(parts) + "\n"


@cache
def openapi_schema() -> dict[str, Any]:
    """The OpenAPI schema of the REST service, as ``/openapi.json`` serves it."""
    from expsql.server import create_app

    return create_app().openapi()


def _schema_type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_schema_type(option) for option in schema[key])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_schema_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict):
        return f"object of {_schema_type(extra)}"
    return str(kind)


def openapi_reference() -> str:
    """Markdown for every route and schema of the OpenAPI document."""
    schema = openapi_schema()
    parts = [f"{schema['info']['title']} {schema['info']['version']}, OpenAPI {schema['openapi']}."]
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            parts += ["", f"### `{method.upper()} {path}`", ""]
            parts.append(_cell(operation.get("summary", "")))
            if operation.get("description"):
                parts += ["", operation["description"].strip()]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                parts += ["", f"Request body: {_schema_type(body['schema'])}."]
            parts += ["", "| status | answer |", "|---|---|"]
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {}).get("application/json", {})
                shape = _schema_type(content["schema"]) if content.get("schema") else ""
                parts.append(f"| {status} | {_cell(answer.get('description', ''))} {shape} |")
    parts += ["", "## Schemas"]
    for name, definition in schema.get("components", {}).get("schemas", {}).items():
        parts += ["", f"### {name}", ""]
        if definition.get("description"):
            parts += [_cell(definition["description"]), ""]
        required = set(definition.get("required", ()))
        properties = definition.get("properties", {})
        if not properties:
            parts.append(f"Type: {_schema_type(definition)}.")
            continue
        parts += ["| field | type | required | description |", "|---|---|---|---|"]
        for field_name, field_schema in properties.items():
            description = field_schema.get("description", "")
            if "default" in field_schema and field_schema["default"] is not None:
                description = f"{description} Default: `{json.dumps(field_schema['default'])}`.".strip()
            parts.append(
                f"| `{field_name}` | {_schema_type(field_schema)} | "
                f"{'yes' if field_name in required else ''} | {_cell(description)} |"
            )
    return "\n".join(parts) + "\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if OPENAPI_MARKER in markdown:
        markdown = markdown.replace(OPENAPI_MARKER, openapi_reference())
    return markdown


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    content = json.dumps(openapi_schema(), indent=2)
    files.append(File.generated(config, "openapi.json", content=content))
    return files
