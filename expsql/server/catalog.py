"""The server's metric catalog: names in ``/evaluate`` and ``/compile`` bodies, and its listing.

A body may list a catalog metric by name (``"metrics": ["conversion_rate", {"metric": "revenue",
"minimum_effect": 0.02}]``) when the server has a catalog (``[catalog] metrics`` in its
``expsql.toml``). :class:`CatalogNamesRoute` resolves the names before FastAPI validates the body,
so the body is then an ordinary :class:`~expsql.models.Experiment` and every check and error
answer stays as it was; a name the catalog lacks is a 422 naming the closest ones.

The listing is ``GET /catalog/metrics`` and ``GET /catalog/checks``, not the issue's
``GET /metrics``: that path is the service's Prometheus endpoint, which scrapers read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope

from expsql.errors import ExpsqlError
from expsql.models import Experiment
from expsql.references import references, refuse_references

if TYPE_CHECKING:
    from expsql.catalog import Catalog

#: What a body naming a catalog metric hears from a server without a catalog.
NO_CATALOG = (
    "this server has no metric catalog ([catalog] metrics in its expsql.toml): send the metrics inline"
)


class CatalogEntryInfo(BaseModel):
    """One metric or check of the server's catalog."""

    name: str = Field(description="The name an experiment lists it by.")
    kind: str = Field(description="metric or check")
    id: int | str = Field(description="The id its rows and results carry (the entry's id, else its name).")
    display_name: str
    description: str | None
    owner: str | None
    type: str | None = Field(description="A check's type (SRM, SumRatio); null for a metric.")
    nominator: str | None
    denominator: str
    defaults: dict[str, Any] = Field(description="The other fields it sets; a reference may override them.")
    goals: list[str] = Field(description="The goals it reads, with their dimension filters.")


class ParsedBody(Request):
    """A request whose JSON body was read once: FastAPI validates ``data`` (its catalog names
    resolved) without parsing the body again."""

    def __init__(self, scope: Scope, receive: Receive, body: bytes, data: Any) -> None:
        super().__init__(scope, receive)
        self._raw = body
        self._data = data

    async def body(self) -> bytes:
        return self._raw

    async def json(self) -> Any:
        return self._data


def _takes_experiment(route: APIRoute) -> bool:
    annotation = getattr(getattr(route.body_field, "field_info", None), "annotation", None)
    return isinstance(annotation, type) and issubclass(annotation, Experiment)


def resolve_names(data: Any, catalog: Catalog | None) -> Any:
    """A body's data with its catalog names resolved (``data`` itself when it names none).

    :raises NoCatalogError: it names a catalog entry, and the server has no catalog.
    :raises UnknownNameError: it names one the catalog does not hold.
    """
    if not any(references(data)):
        return data
    if catalog is None:
        return refuse_references(data, how=NO_CATALOG)  # raises: the body names a catalog entry
    return catalog.resolve(data, origin="body")


class CatalogNamesRoute(APIRoute):
    """A route whose experiment body may name catalog metrics and checks (resolved before validation)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not _takes_experiment(self):
            return handler

        async def resolving(request: Request) -> Response:
            body = await request.body()
            try:
                data = json.loads(body)
            except (ValueError, RecursionError):  # not JSON, or nested too deep: FastAPI answers it as before
                return await handler(request)
            resolved = resolve_names(data, request.app.state.service.catalog)
            return await handler(ParsedBody(request.scope, request.receive, body, resolved))

        return resolving


router = APIRouter(tags=["catalog"])
NO_CATALOG_ANSWER: dict[int | str, dict[str, Any]] = {
    404: {"description": "The server has no metric catalog ([catalog] metrics in its expsql.toml)"}
}


def _catalog(request: Request) -> Catalog:
    catalog: Catalog | None = request.app.state.service.catalog
    if catalog is None:
        raise NoCatalog("this server has no metric catalog ([catalog] metrics in its expsql.toml)")
    return catalog


class NoCatalog(ExpsqlError):
    """A catalog listing asked of a server without one (404)."""


@router.get("/catalog/metrics", response_model=list[CatalogEntryInfo], responses=NO_CATALOG_ANSWER)
def catalog_metrics(request: Request) -> list[dict[str, Any]]:
    """The metrics of the server's catalog: what an experiment may name in its ``metrics``."""
    return [entry.to_dict() for entry in _catalog(request).metrics.values()]


@router.get("/catalog/checks", response_model=list[CatalogEntryInfo], responses=NO_CATALOG_ANSWER)
def catalog_checks(request: Request) -> list[dict[str, Any]]:
    """The checks of the server's catalog: what an experiment may name in its ``checks``."""
    return [entry.to_dict() for entry in _catalog(request).checks.values()]
