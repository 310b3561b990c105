"""``expsql serve``: the ep-stats compatible REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from expsql.cli.app import app, stderr
from expsql.cli.catalog import MetricsOption


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Interface to listen on [default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [default: 8080]")] = None,
    config: Annotated[Path | None, typer.Option(help="Config file [default: ./expsql.toml]")] = None,
    workers: Annotated[int | None, typer.Option(help="Evaluations running at once [default: 4]")] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds per evaluation before a 504 [default: 60]")
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(help="Environment variable holding the bearer tokens clients must send [default: none]"),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level")] = "info",
    metrics: MetricsOption = None,
) -> None:
    """Serve /evaluate (ep-stats' API), /compile, /sample-size-calculation, /dialects, /catalog and /docs."""
    from expsql.config import load_config
    from expsql.errors import ExpsqlError
    from expsql.server import serve

    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise ExpsqlError(f"expsql serve needs {error.name}: pip install 'expsql[serve]'") from None

    settings = load_config(config)
    from expsql.catalog import load_catalog

    catalog = load_catalog(metrics) if metrics is not None else None  # a bad catalog fails before the banner
    from expsql.server.auth import load_tokens

    load_tokens(token_env or settings.server.tokens_env)  # a missing secret fails before the banner
    shown_host = host or settings.server.host
    shown_port = port if port is not None else settings.server.port
    stderr.print(f"expsql serves on http://{shown_host}:{shown_port} (API docs at /docs)", markup=False)
    serve(
        host=host,
        port=port,
        config=settings,
        workers=workers,
        timeout=timeout,
        tokens_env=token_env,
        log_level=log_level,
        catalog=catalog,
    )
