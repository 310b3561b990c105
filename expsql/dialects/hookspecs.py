"""The hooks an expsql plugin implements, and the markers that tag them.

A plugin is a module (or any object) with functions marked ``@expsql.dialects.hookimpl`` whose
names match the specifications below. Built-in dialects are plugins of exactly this kind.
"""

from __future__ import annotations

import pluggy

from expsql.dialects.base import Dialect

PROJECT_NAME = "expsql"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def expsql_dialects() -> list[Dialect]:  # type: ignore[empty-body]
    """Return the warehouses this plugin adds.

    Called once, when the registry is first used. Each name may be claimed by one plugin only;
    returning a dialect whose name another plugin already registered is an error naming both.

    :return: the :class:`~expsql.dialects.Dialect` objects this plugin contributes (may be empty).
    """
