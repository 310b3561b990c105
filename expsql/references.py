"""Catalog references in an experiment's ``metrics`` and ``checks``, before any catalog is read.

An experiment lists a catalog metric by its name, alone or with overrides, beside inline metrics::

    metrics:
    - conversion_rate                              # the catalog's metric as it is
    - {metric: revenue, minimum_effect: 0.02}      # with one default overridden
    - {id: 9, name: Clicks, nominator: ..., denominator: ...}   # inline, as before
    checks:
    - srm                                          # checks likewise: {check: srm, ...}

This module says what a reference looks like and refuses one when no catalog is given;
:mod:`expsql.catalog` (above the models) resolves them. It sits below the models so that an
:class:`~expsql.models.Experiment` built without a catalog says clearly why a name fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final, Protocol

from expsql.errors import ExperimentError

#: The key that names the catalog entry in a reference with overrides, per experiment list.
REFERENCE_KEYS: Final = {"metrics": "metric", "checks": "check"}
#: What a catalog reference never overrides: the expressions (and a check's type) are what the name
#: means, so the same id always measures the same thing.
FIXED_FIELDS: Final = {
    "metrics": ("nominator", "denominator"),
    "checks": ("type", "nominator", "denominator"),
}
#: Where a catalog comes from, for the message when a name is used without one.
HOW_TO_GIVE_A_CATALOG: Final = (
    "no metric catalog is given: pass --metrics FILE, set `metrics` in the [catalog] table of expsql.toml, "
    "or in Python load_experiment(path, catalog=load_catalog(FILE))"
)


class NoCatalogError(ExperimentError):
    """An experiment names a catalog metric or check, and no catalog was given."""


class UnknownNameError(ExperimentError, KeyError):
    """A reference to a name the catalog does not hold; :attr:`closest` are the nearest names."""

    def __init__(self, message: str, *, name: str, kind: str, closest: list[str]) -> None:
        super().__init__(message)
        self.name = name
        self.kind = kind
        self.closest = closest

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


class Resolver(Protocol):
    """What :func:`~expsql.models.validate_experiment` needs of a catalog."""

    def resolve(self, data: dict[str, Any], *, origin: str = "experiment") -> dict[str, Any]:
        """``data`` with every catalog reference replaced by the inline definition it stands for."""
        ...


def singular(kind: str) -> str:
    """``metric`` for ``metrics``, ``check`` for ``checks``."""
    return REFERENCE_KEYS[kind]


def is_reference(item: Any, kind: str) -> bool:
    """Whether ``item`` of the experiment's ``kind`` list names a catalog entry."""
    return isinstance(item, str) or (isinstance(item, dict) and REFERENCE_KEYS[kind] in item)


def split_reference(item: Any, kind: str) -> tuple[Any, dict[str, Any]]:
    """The name a reference gives and its overrides (``{}`` for a bare name)."""
    if isinstance(item, str):
        return item, {}
    overrides = dict(item)
    return overrides.pop(REFERENCE_KEYS[kind]), overrides


def references(data: Any) -> Iterator[tuple[str, int, Any]]:
    """Each catalog reference of an experiment's data: ``(kind, index, name)``."""
    if not isinstance(data, dict):
        return
    for kind in REFERENCE_KEYS:
        items = data.get(kind)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if is_reference(item, kind):
                    yield kind, index, split_reference(item, kind)[0]


def refuse_references(data: Any, *, origin: str | None = None, how: str = HOW_TO_GIVE_A_CATALOG) -> Any:
    """``data`` unchanged if it names no catalog entry, else :class:`NoCatalogError` saying how to
    give a catalog."""
    found = list(references(data))
    if not found:
        return data
    kind, index, name = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    where = f"{origin}: " if origin else ""
    raise NoCatalogError(
        f"{where}{kind}.{index} names the catalog {singular(kind)} {name!r}{more}, but {how}"
    )
