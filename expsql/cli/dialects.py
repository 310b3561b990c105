"""``expsql dialects``: every registered dialect, where it comes from and whether it can run."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expsql.cli.app import app


@app.command("dialects")
def dialects_command() -> None:
    """List the warehouses expsql can compile for: built-in and plugin dialects, whether each can run
    here (its client installed) or compiles only, cancels in the warehouse, and loads test tables."""
    from expsql.dialects.registry import default_registry

    registry = default_registry()
    table = Table(title="expsql dialects", title_justify="left")
    for header in (
        "name",
        "origin",
        "sqlglot dialect",
        "connector",
        "percentile",
        "cancel",
        "query limit",
        "load tables",
    ):
        table.add_column(header, no_wrap=True)
    table.add_column("description", overflow="fold")
    for name in registry.available():
        dialect = registry.get(name)
        sqlglot_name = dialect.sqlglot_dialect
        if not isinstance(sqlglot_name, str):
            sqlglot_name = sqlglot_name.__name__.lower()
        if dialect.connector is None:
            connector = "compile only"
        elif dialect.connector_installed():
            connector = "installed"
        else:
            connector = f"missing: expsql[{dialect.extra}]" if dialect.extra else "missing"
        # How outlier caps are computed there: exact, or the warehouse's approximation.
        cells = (
            name,
            registry.origin(name),
            sqlglot_name,
            connector,
            dialect.percentile,
            # Whether a timed-out or abandoned evaluation stops in the warehouse or runs to its end.
            "yes" if dialect.can_cancel else "no",
            # Beyond it, metric rows compile to several statements (compile_statements).
            _size(dialect.max_query_bytes),
            # Whether the conformance kit and `expsql check` can write their reference tables through it.
            "yes" if dialect.can_load_tables else "no",
            dialect.description,
        )
        table.add_row(*(escape(cell) for cell in cells))
    # Piped output keeps whole rows on one line up to 176 columns instead of rich's default 80.
    console = Console(width=max(Console().width, 176))
    console.print(table)
    for failure in registry.failures:
        typer.echo(f"not loaded: {failure}", err=True)


def _size(limit: int | None) -> str:
    if limit is None:
        return "none"
    if limit % 1024**2 == 0:
        return f"{limit // 1024**2:,} MiB"
    return f"{limit / 1000**2:g} MB" if limit % 1000**2 == 0 else f"{limit:,} B"
