"""The metric catalog: metrics and checks defined once, by name, for every experiment.

A catalog file (``metrics.yaml``; YAML, TOML or JSON) maps names to definitions::

    metrics:
      conversion_rate:
        id: 1                                   # optional: the id rows carry (default: the name)
        name: Conversion rate                   # optional: the display name (default: the name)
        description: Share of exposed users who bought at least once.
        owner: growth-team
        nominator: unique(user.unit.conversion)
        denominator: count(user.global.exposure)
        minimum_effect: 0.05                    # any other field of a Metric: a default
    checks:
      srm:
        name: Sample ratio mismatch
        denominator: count(user.global.exposure)

An entry takes every field of :class:`~expsql.models.Metric` (or :class:`~expsql.models.Check`),
plus ``description`` and ``owner``; the fields are read from the models, so a field added to
``Metric`` is a catalog default with no change here. An experiment names an entry
(``- conversion_rate``) or names it with overrides (``- {metric: revenue, minimum_effect: 0.02}``),
see :mod:`expsql.references`.

**Ids.** A catalog metric's id is its entry's ``id``, else its name; it is the same in every
experiment, so its rows (``metric_id``) line up across experiments. Two entries of one kind with
one id are refused. A reference may set ``id``: to use one catalog metric twice in an experiment
(with two windows, say), each use needs an id of its own.

**Overrides.** A reference may change every field but the expressions (``nominator``,
``denominator``; a check's ``type`` too): what the name measures never changes, only how it is
tested. A different expression is a different metric: inline, or an entry of its own.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, ValidationError

from expsql.errors import ExperimentError
from expsql.files import read_mapping
from expsql.grammar.ast import BinaryOp, GoalKey, goals
from expsql.models import Check, Metric, expression_error_in, unknown_keys_message
from expsql.references import (
    FIXED_FIELDS,
    REFERENCE_KEYS,
    UnknownNameError,
    is_reference,
    singular,
    split_reference,
)

#: The keys of an entry that are the catalog's own, not the metric's.
ENTRY_KEYS: Final = ("description", "owner")
#: A catalog name: what an experiment file and ``expsql metrics NAME`` write.
NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
#: Names listed in full in an unknown-name message when none is close; beyond, `expsql metrics`.
LISTED_NAMES: Final = 12


class CatalogError(ExperimentError):
    """A catalog file that cannot be read or holds an invalid entry."""


class CatalogEntry(BaseModel):
    """One named metric or check of the catalog: its definition and who answers for it."""

    model_config = ConfigDict(frozen=True)
    kind: ClassVar[str] = "metrics"

    name: str
    description: str | None = None
    owner: str | None = None
    #: The entry's fields as written, with ``id`` and ``name`` defaulted: what a reference starts from.
    fields: dict[str, Any]

    @property
    def definition(self) -> Metric | Check:
        """The metric or check with the entry's defaults (validated when the catalog was read)."""
        raise NotImplementedError

    @property
    def id(self) -> int | str:
        return self.definition.id

    @property
    def expression(self) -> str:
        """``nominator / denominator`` as one expression, with the parentheses it needs."""
        definition = self.definition
        if definition.nominator_expr is None:
            return str(definition.denominator_expr)
        return str(BinaryOp("/", definition.nominator_expr, definition.denominator_expr))

    def defaults(self) -> dict[str, Any]:
        """The fields the entry sets beside its id, name and expressions."""
        shown = ("id", "name", *FIXED_FIELDS[self.kind])
        return {key: value for key, value in self.fields.items() if key not in shown}

    def to_dict(self) -> dict[str, Any]:
        """Everything about the entry, JSON-ready: what ``expsql metrics NAME`` and the REST API show."""
        definition = self.definition
        return {
            "name": self.name,
            "kind": singular(self.kind),
            "id": definition.id,
            "display_name": definition.name,
            "description": self.description,
            "owner": self.owner,
            "type": getattr(definition, "type", None),
            "nominator": definition.nominator,
            "denominator": definition.denominator,
            "defaults": self.defaults(),
            "goals": [str(key) for key in metric_goals(definition)],
        }


class CatalogMetric(CatalogEntry):
    metric: Metric

    @property
    def definition(self) -> Metric:
        return self.metric


class CatalogCheck(CatalogEntry):
    kind: ClassVar[str] = "checks"
    check: Check

    @property
    def definition(self) -> Check:
        return self.check


def metric_goals(definition: Metric | Check) -> list[GoalKey]:
    """The goals (with their dimension filters) a metric or check reads, in first-seen order.

    The extension point for sources whose goals live in several tables: each goal resolves to
    the table that holds it.
    """
    expressions = [definition.nominator_expr, definition.denominator_expr]
    keys: dict[GoalKey, None] = {}
    for expression in expressions:
        if expression is not None:
            for goal in goals(expression):
                keys.setdefault(goal.key, None)
    return list(keys)


class Catalog(BaseModel):
    """Named metrics and checks (:func:`load_catalog`); :meth:`resolve` inlines an experiment's references."""

    model_config = ConfigDict(frozen=True)

    metrics: dict[str, CatalogMetric] = {}
    checks: dict[str, CatalogCheck] = {}
    #: Where the catalog was read from, for messages.
    origin: str = "catalog"

    def entries(self, kind: str) -> dict[str, CatalogMetric] | dict[str, CatalogCheck]:
        return self.metrics if kind == "metrics" else self.checks

    def get(self, name: str) -> CatalogMetric | CatalogCheck:
        """The metric named ``name``, else the check; :class:`UnknownNameError` with the closest names."""
        if name in self.metrics:
            return self.metrics[name]
        if name in self.checks:
            return self.checks[name]
        raise self.unknown(name, "metrics", also=list(self.checks))

    def unknown(self, name: str, kind: str, *, also: list[str] | None = None) -> UnknownNameError:
        """The error for ``name``, which the catalog's ``kind`` does not hold."""
        names = [*self.entries(kind), *(also or [])]
        closest = difflib.get_close_matches(name, names, n=3)
        what = f"no {singular(kind)} {name!r} in the catalog {self.origin}"
        if closest:
            hint = f"did you mean {', '.join(map(repr, closest))}?"
        elif not names:
            hint = f"it has no {kind}"
        elif len(names) <= LISTED_NAMES:
            hint = f"its {kind} are {', '.join(names)}"
        else:
            hint = "`expsql metrics` lists them"
        return UnknownNameError(f"{what} ({hint})", name=name, kind=kind, closest=closest)

    def resolve(self, data: dict[str, Any], *, origin: str = "experiment") -> dict[str, Any]:
        """``data`` (an experiment's fields) with each catalog reference replaced by its definition.

        :raises UnknownNameError: a name the catalog does not hold.
        :raises ExperimentError: a reference overrides an expression, or a key no metric has.
        """
        if not isinstance(data, dict):
            return data
        resolved = dict(data)
        for kind in REFERENCE_KEYS:
            items = data.get(kind)
            if isinstance(items, list) and any(is_reference(item, kind) for item in items):
                resolved[kind] = [
                    self._resolve(kind, index, item, origin) if is_reference(item, kind) else item
                    for index, item in enumerate(items)
                ]
        return resolved

    def _resolve(self, kind: str, index: int, item: Any, origin: str) -> dict[str, Any]:
        where = f"{origin}: {kind}.{index}"
        name, overrides = split_reference(item, kind)
        if not isinstance(name, str):
            raise ExperimentError(f"{where}: {singular(kind)} must be a catalog name, not {name!r}")
        entries = self.entries(kind)
        if name not in entries:
            error = self.unknown(name, kind)
            raise UnknownNameError(f"{where}: {error}", name=name, kind=kind, closest=error.closest)
        fixed = [key for key in overrides if key in FIXED_FIELDS[kind]]
        if fixed:
            raise ExperimentError(
                f"{where}: the catalog {singular(kind)} {name!r} cannot change its "
                f"{' and '.join(fixed)}: a catalog name always measures the same thing. Write the "
                f"{singular(kind)} inline (with an id of its own) or add it to the catalog"
            )
        model = Metric if kind == "metrics" else Check
        allowed = [key for key in model.model_fields if key not in FIXED_FIELDS[kind]]
        unknown = [str(key) for key in overrides if key not in allowed]
        if unknown:
            keys = [REFERENCE_KEYS[kind], *allowed]
            raise ExperimentError(
                f"{where}: {unknown_keys_message(f'{singular(kind)} reference', unknown, keys)}"
            )
        return entries[name].fields | overrides


def load_catalog(path: str | Path) -> Catalog:
    """Read a catalog file (YAML, TOML or JSON), every entry validated as its metric or check.

    :raises CatalogError: the file cannot be read, or an entry is not a valid metric or check.
    :raises ExpressionError: an entry's expression does not parse (named by file and entry).
    """
    path = Path(path)
    try:
        data = read_mapping(path, unique_keys=True)
    except FileNotFoundError:
        raise CatalogError(f"metric catalog {path} does not exist") from None
    except ExperimentError as error:
        raise CatalogError(str(error)) from None
    return catalog_from_mapping(data, origin=str(path))


def catalog_from_mapping(data: dict[str, Any], *, origin: str = "catalog") -> Catalog:
    """A :class:`Catalog` from a catalog file's content (``{"metrics": {...}, "checks": {...}}``)."""
    unknown = [str(key) for key in data if key not in REFERENCE_KEYS]
    if unknown:
        raise CatalogError(f"{origin}: {unknown_keys_message('catalog', unknown, list(REFERENCE_KEYS))}")
    metrics = {name: CatalogMetric(metric=m, **e) for name, (m, e) in _entries(data, "metrics", origin)}
    checks = {name: CatalogCheck(check=c, **e) for name, (c, e) in _entries(data, "checks", origin)}
    return Catalog(metrics=metrics, checks=checks, origin=origin)


def _entries(data: dict[str, Any], kind: str, origin: str) -> list[tuple[str, tuple[Any, dict[str, Any]]]]:
    section = data.get(kind) or {}
    if not isinstance(section, dict):
        raise CatalogError(f"{origin}: {kind} must map names to {kind}, not be a {type(section).__name__}")
    built = [(name, _entry(kind, name, raw, origin)) for name, raw in section.items()]
    by_id: dict[int | str, str] = {}
    for name, (definition, _) in built:
        other = by_id.setdefault(definition.id, name)
        if other != name:
            raise CatalogError(
                f"{origin}: {kind} {other!r} and {name!r} have one id, {definition.id!r}: rows are keyed "
                "by id, so each needs its own"
            )
    return built


def _entry(kind: str, name: Any, raw: Any, origin: str) -> tuple[Metric | Check, dict[str, Any]]:
    where = f"{origin}: {kind}.{name}"
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise CatalogError(
            f"{origin}: {kind}: {name!r} is not a catalog name (text of letters, digits and _ . -, "
            "starting with a letter or digit)"
        )
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: expected the {singular(kind)}'s fields, not {raw!r}")
    model = Metric if kind == "metrics" else Check
    known = [*model.model_fields, *ENTRY_KEYS]
    unknown = [str(key) for key in raw if key not in known]
    if unknown:
        raise CatalogError(f"{where}: {unknown_keys_message(f'catalog {singular(kind)}', unknown, known)}")
    own = {key: raw.get(key) for key in ENTRY_KEYS}
    for key, value in own.items():
        if value is not None and not isinstance(value, str):
            raise CatalogError(f"{where}: {key} must be text, not {value!r}")
    fields = {"id": name, "name": name} | {key: v for key, v in raw.items() if key not in ENTRY_KEYS}
    try:
        definition = model.model_validate(fields)
    except ValidationError as error:
        cause = expression_error_in(error)
        if cause is not None:
            side = (cause.context or "").rsplit(" ", 1)[-1]
            raise cause.with_context(f"{origin}: catalog {singular(kind)} {name!r} {side}") from None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in detail['loc']) or '(entry)'}: "
            + detail["msg"].removeprefix("Value error, ")
            for detail in error.errors()
        )
        raise CatalogError(f"{where}: {problems}") from None
    return definition, {"name": name, "fields": fields, **own}
