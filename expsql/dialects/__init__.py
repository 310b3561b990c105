"""Warehouses as plugins: the :class:`Dialect` record, its :class:`Dao` and the registry.

Plugins (built-in or third-party, through the entry-point group ``expsql``) implement the hook
of :mod:`expsql.dialects.hookspecs` with :data:`hookimpl`; :func:`get` and :func:`available`
read the registry, built lazily on first use by :mod:`expsql.dialects.registry`.
"""

from expsql.dialects.base import Dao, Dialect
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.registry import UnknownDialectError, available, get

__all__ = ["Dao", "Dialect", "UnknownDialectError", "available", "get", "hookimpl"]
