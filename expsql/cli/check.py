"""``expsql check``: the conformance kit against a live warehouse, in a scratch schema the user names.

It writes the kit's reference tables there (through the dialect's Dao), runs every reference
experiment, prints pass/fail per feature with the first differing row of each failure, drops the
tables it wrote (also on a failure or Ctrl-C) and exits 1 when any case failed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from expsql.cli.app import app, stderr
from expsql.errors import ConnectorError, ExpsqlError

#: What to grant where writing a reference table failed, per dialect (``{schema}`` filled in).
PRIVILEGES = {
    "postgres": "CREATE on schema {schema} (GRANT CREATE ON SCHEMA {schema} TO <user>)",
    "redshift": "CREATE on schema {schema} (GRANT CREATE ON SCHEMA {schema} TO <user>)",
    "snowflake": "CREATE TABLE on schema {schema} (GRANT CREATE TABLE ON SCHEMA {schema} TO ROLE <role>)",
    "spark": "CREATE TABLE in schema {schema} (Unity Catalog: USE SCHEMA and CREATE TABLE on it)",
    "databricks": "USE SCHEMA and CREATE TABLE on schema {schema} (GRANT CREATE TABLE ON SCHEMA {schema})",
    "clickhouse": "CREATE TABLE, INSERT and DROP TABLE on {schema}.* "
    "(GRANT CREATE TABLE, INSERT, DROP TABLE ON {schema}.* TO <user>)",
    "trino": "CREATE TABLE in schema {schema} (the catalog's access control must allow it)",
}


def _guarded(
    load: Callable[[pd.DataFrame, str], None], dialect: str, schema: str | None
) -> Callable[..., None]:
    """``load``, with a failure said as the privilege ``expsql check`` needs."""

    def guarded(frame: pd.DataFrame, table: str) -> None:
        try:
            load(frame, table)
        except Exception as error:
            where = schema or "the connection's default schema"
            needed = PRIVILEGES.get(dialect, "the privilege to create, fill and drop tables in {schema}")
            raise ConnectorError(
                f"cannot write the reference table {table}: {error}\n"
                f"expsql check needs {needed.format(schema=where)}"
            ) from error

    return guarded


@app.command("check")
def check_command(
    dialect: Annotated[str, typer.Option(help="Warehouse dialect, see `expsql dialects`.")],
    connect: Annotated[
        str | None,
        typer.Option(
            help="Where the warehouse is (as for `expsql run`). Passwords and keys belong in "
            "environment variables (password_env in expsql.toml), never here."
        ),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(help="A scratch schema expsql may create tables in; they are dropped at the end."),
    ] = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", help="Only this feature (repeatable), see the table.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="Config file [default: ./expsql.toml]")] = None,
) -> None:
    """Prove a dialect on a live warehouse with the conformance kit; exit 1 on any failure.

    Writes the kit's reference tables in the scratch schema, runs every reference experiment,
    prints pass/fail per feature with the first differing row, and drops the tables it wrote.
    """
    from expsql import runner
    from expsql.config import load_config, reject_inline_password
    from expsql.dialects import get
    from expsql.testing.cases import CASES, FEATURES
    from expsql.testing.kit import Target, reference_tables_loaded, run_kit

    settings = load_config(config)
    reject_inline_password(connect)
    chosen = get(dialect)
    unknown = sorted(set(feature or ()) - set(FEATURES))
    if unknown:
        raise ExpsqlError(f"unknown feature {unknown[0]!r}; the features: {', '.join(FEATURES)}")
    dao = runner.connect(dialect, connect, settings.connector_options(dialect))
    try:
        target = Target.of(chosen, dao, schema=schema)
        if target.load is None:
            raise ExpsqlError(
                f"the {dialect} connector cannot write tables (its Dao has no load_table), "
                "so expsql check cannot write its reference tables"
            )
        target = Target(chosen, dao, _guarded(target.load, dialect, schema), target.drop, schema)
        cases = [case for case in CASES.values() if not feature or case.feature in feature]
        stderr.print(f"writing the reference tables in {schema or 'the default schema'}", markup=False)
        try:
            with reference_tables_loaded(target):
                report = run_kit(target, cases, load=False)
        except KeyboardInterrupt:
            stderr.print("interrupted: the reference tables were dropped", markup=False)
            raise typer.Exit(130) from None
    finally:
        dao.close()
    typer.echo(report.to_text())
    if not report.passed:
        raise typer.Exit(1)
