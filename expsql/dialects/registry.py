"""Which dialects exist: built-ins and entry-point plugins, gathered through one pluggy hook.

Nothing happens at import time. :func:`build_registry` makes a fresh plugin manager, registers
the built-in modules of :data:`DEFAULT_PLUGINS`, loads the third-party entry points of group
``expsql`` one by one (a broken one is recorded, warned about once and skipped), and collects
every plugin's :func:`~expsql.dialects.hookspecs.expsql_dialects` answer, remembering which
distribution contributed which dialect. :func:`default_registry` builds that once, lazily.
"""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Final

import pluggy
import sqlglot

from expsql.dialects import hookspecs
from expsql.dialects.base import Dialect
from expsql.errors import DialectError

ENTRY_POINT_GROUP: Final = "expsql"
#: Set to ``1`` to load no third-party plugin (when one breaks startup).
DISABLE_PLUGINS_ENV: Final = "EXPSQL_DISABLE_PLUGINS"
BUILT_IN: Final = "built-in"

DEFAULT_PLUGINS: Final = (
    "expsql.dialects.duckdb",
    "expsql.dialects.postgres",
    "expsql.dialects.bigquery",
    "expsql.dialects.spark",
    "expsql.dialects.snowflake",
    "expsql.dialects.trino",
    "expsql.dialects.redshift",
    "expsql.dialects.clickhouse",
    "expsql.dialects.databricks",
)


class UnknownDialectError(KeyError, DialectError):
    """A dialect name nobody registered; the message suggests close names and lists all."""

    def __init__(self, name: str, available: Iterable[str]) -> None:
        known = sorted(available)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        self.name = name
        self.available = tuple(known)
        self.message = f"unknown dialect {name!r}.{hint} Available: {', '.join(known) or 'none'}"
        super().__init__(self.message)

    def __str__(self) -> str:
        # KeyError.__str__ would print the repr of the message, quotes and all.
        return self.message


class DuplicateDialectError(DialectError):
    """Two different dialects claim one name; the message names both distributions."""


@dataclass(frozen=True)
class LoadFailure:
    """A plugin that could not be loaded or registered, and the package it came from."""

    name: str
    distribution: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} from {self.distribution}: {self.error}"


@dataclass(frozen=True)
class RegisteredDialect:
    """A dialect and its origin: ``built-in`` or the distribution that registered it."""

    dialect: Dialect
    origin: str

    @property
    def name(self) -> str:
        return self.dialect.name


@dataclass
class Registry:
    """The dialects one plugin manager knows, by name, with the failures met while loading."""

    plugin_manager: pluggy.PluginManager
    entries: dict[str, RegisteredDialect] = field(default_factory=dict)
    failures: list[LoadFailure] = field(default_factory=list)

    def get(self, name: str) -> Dialect:
        """The dialect registered as ``name``; :class:`UnknownDialectError` otherwise."""
        try:
            return self.entries[name].dialect
        except KeyError:
            raise UnknownDialectError(name, self.entries) from None

    def origin(self, name: str) -> str:
        """``built-in`` or the distribution that registered ``name``."""
        self.get(name)
        return self.entries[name].origin

    def available(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self.entries)

    def add(self, dialect: object, origin: str) -> None:
        """Register one dialect; the same dialect again is a no-op, another one with its name an error."""
        if not isinstance(dialect, Dialect):
            raise DialectError(f"{origin} returned {dialect!r}, not an expsql.dialects.Dialect")
        try:
            sqlglot.Dialect.get_or_raise(dialect.sqlglot_dialect)
        except ValueError as error:
            raise DialectError(
                f"dialect {dialect.name!r} from {origin} names an unknown sqlglot dialect: {error}"
            ) from None
        existing = self.entries.get(dialect.name)
        if existing is not None:
            if existing.dialect is dialect or existing.dialect == dialect:
                return
            raise DuplicateDialectError(
                f"dialect {dialect.name!r} is registered twice: by {existing.origin} and by {origin}; "
                f"uninstall one (or set {DISABLE_PLUGINS_ENV}=1 to load no third-party plugin)"
            )
        self.entries[dialect.name] = RegisteredDialect(dialect, origin)


def make_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager that knows expsql's hook specifications and no plugin yet."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def third_party_disabled() -> bool:
    return os.environ.get(DISABLE_PLUGINS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _distribution_name(entry_point: EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    if dist is not None and dist.metadata is not None and dist.metadata["Name"]:
        return str(dist.metadata["Name"])
    return f"unknown distribution ({entry_point.value})"


def build_registry(
    plugins: Iterable[str | ModuleType | object] = DEFAULT_PLUGINS,
    entry_points_: Iterable[EntryPoint] | None = None,
    *,
    load_third_party: bool | None = None,
) -> Registry:
    """A fresh registry: ``plugins`` (built-ins: modules or their dotted names) then entry points.

    :param plugins: built-in plugins; an error in one of them is a bug and raises.
    :param entry_points_: third-party entry points; ``None`` discovers group ``expsql``.
    :param load_third_party: ``False`` skips entry points; ``None`` follows
        :data:`DISABLE_PLUGINS_ENV`.
    """
    manager = make_plugin_manager()
    registry = Registry(manager)
    # id(plugin) -> (origin, plugin name as users know it: module or entry-point name)
    origins: dict[int, tuple[str, str]] = {}

    for plugin in plugins:
        module = importlib.import_module(plugin) if isinstance(plugin, str) else plugin
        if not manager.is_registered(module):
            manager.register(module)
            origins[id(module)] = (BUILT_IN, getattr(module, "__name__", repr(module)))
    manager.check_pending()

    if load_third_party is None:
        load_third_party = not third_party_disabled()
    if load_third_party:
        found = entry_points(group=ENTRY_POINT_GROUP) if entry_points_ is None else entry_points_
        for entry_point in found:
            _register_entry_point(manager, entry_point, origins, registry.failures)

    # Registration order, built-ins first, so a duplicate's message names the built-in first.
    for implementation in manager.hook.expsql_dialects.get_hookimpls():
        origin, plugin_name = origins[id(implementation.plugin)]
        try:
            dialects = implementation.function()
            if not isinstance(dialects, list | tuple):
                raise DialectError(
                    f"expsql_dialects() returned {type(dialects).__name__}, not a list of Dialect objects"
                )
            for dialect in dialects:
                registry.add(dialect, origin)
        except DuplicateDialectError:
            raise
        except Exception as error:
            if origin == BUILT_IN:
                raise
            message = str(error) if isinstance(error, DialectError) else f"{type(error).__name__}: {error}"
            registry.failures.append(LoadFailure(plugin_name, origin, message))

    if registry.failures:
        listed = "; ".join(str(failure) for failure in registry.failures)
        warnings.warn(
            f"expsql skipped {len(registry.failures)} plugin(s): {listed}", RuntimeWarning, stacklevel=2
        )
    return registry


def _register_entry_point(
    manager: pluggy.PluginManager,
    entry_point: EntryPoint,
    origins: dict[int, tuple[str, str]],
    failures: list[LoadFailure],
) -> None:
    """Load and register one entry point; any failure becomes a :class:`LoadFailure`."""
    distribution = _distribution_name(entry_point)
    try:
        plugin = entry_point.load()
    except Exception as error:
        failures.append(LoadFailure(entry_point.name, distribution, f"{type(error).__name__}: {error}"))
        return
    if manager.is_registered(plugin):
        return
    plugin_name = f"{distribution}:{entry_point.name}"
    try:
        manager.register(plugin, name=plugin_name)
        # A hookimpl whose name matches no hook (a misspelling) is silently ignored otherwise.
        manager.check_pending()
    except Exception as error:
        if manager.is_registered(plugin):
            manager.unregister(plugin)
        failures.append(LoadFailure(entry_point.name, distribution, f"{type(error).__name__}: {error}"))
        return
    origins[id(plugin)] = (distribution, entry_point.name)


@cache
def default_registry() -> Registry:
    """The registry of this process: built once, on first use."""
    return build_registry()


def get(name: str) -> Dialect:
    """The dialect registered as ``name`` (``duckdb``, ``bigquery``, ...)."""
    return default_registry().get(name)


def available() -> list[str]:
    """Names of every registered dialect, sorted."""
    return default_registry().available()
