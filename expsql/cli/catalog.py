"""The ``--metrics`` option of every command that reads an experiment, and the catalog it names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from expsql.catalog import Catalog
    from expsql.config import Config

MetricsOption = Annotated[
    Path | None,
    typer.Option(
        "--metrics",
        help="Metric catalog (YAML, TOML or JSON) the experiment names metrics and checks from "
        "[default: config [catalog] metrics]",
    ),
]
ConfigOption = Annotated[Path | None, typer.Option(help="Config file [default: ./expsql.toml]")]


def catalog_for(metrics: Path | None, config: Config | Path | None = None) -> Catalog | None:
    """The catalog ``--metrics`` names, else the one ``[catalog] metrics`` of the config names, else none."""
    from expsql.catalog import load_catalog
    from expsql.config import Config, load_config

    if metrics is not None:
        return load_catalog(metrics)
    settings = config if isinstance(config, Config) else load_config(config)
    path = settings.relative(settings.catalog.metrics)
    return load_catalog(path) if path is not None else None
