"""One refresh of an experiment at a time: a second refresh of the same experiment refuses clearly
instead of interleaving its versions with the first's.

How each warehouse holds the lock (:attr:`~expsql.dialects.Dialect.refresh_lock`):

- ``session`` — an advisory lock of the connection (PostgreSQL's ``pg_try_advisory_lock``): the
  server releases it when the connection ends, so a refresh killed at any step leaves no lock.
- ``table`` — a lock table in the state schema, created by the refresh (``CREATE TABLE`` fails
  when it exists) and dropped at its end. It names the holder's host and process, so a refresh
  that finds the lock of a process of its own host that is gone (killed) takes it over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlglot import exp

from expsql.dialects import Dao, Dialect
from expsql.dialects.frames import drop_table_sql, table_node
from expsql.errors import ExpsqlError
from expsql.incremental.state import StateTables, timestamp_value


class RefreshBusy(ExpsqlError):
    """Another refresh of the same experiment holds its lock."""


@contextmanager
def refresh_lock(dao: Dao, dialect: Dialect, tables: StateTables) -> Iterator[None]:
    """Hold the experiment's refresh lock for the block.

    :raises RefreshBusy: another refresh of the experiment holds it.
    """
    if dialect.refresh_lock == "session":
        with _advisory_lock(dao, dialect, tables):
            yield
    else:
        with _table_lock(dao, dialect, tables):
            yield


def _lock_key(tables: StateTables) -> int:
    """A signed 64-bit key for the experiment's state, as advisory locks take."""
    digest = hashlib.sha256(f"expsql-state:{tables.schema}:{tables.experiment}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _call(function: str, key: int) -> exp.Select:
    return exp.Select().select(
        exp.alias_(exp.Anonymous(this=function, expressions=[exp.Literal.number(key)]), "held"), copy=False
    )


@contextmanager
def _advisory_lock(dao: Dao, dialect: Dialect, tables: StateTables) -> Iterator[None]:
    key = _lock_key(tables)
    frame = dao.execute(dialect.render(_call("pg_try_advisory_lock", key), pretty=False))
    if not bool(frame.iloc[0, 0]):
        raise RefreshBusy(
            f"another refresh of experiment {tables.experiment!r} is running (it holds the advisory lock "
            f"{key} on the warehouse); run again when it has finished"
        )
    try:
        yield
    finally:
        with suppress(Exception):  # a closed connection has released it already
            dao.execute(dialect.render(_call("pg_advisory_unlock", key), pretty=False))


def _lock_table(tables: StateTables) -> str:
    return f"{tables.schema}.expsql_state_{tables.key}_lock"


def _create_lock_sql(name: str, dialect: Dialect) -> str:
    holder = exp.Select().select(
        exp.alias_(exp.Literal.string(socket.gethostname()), "host"),
        exp.alias_(exp.Literal.number(os.getpid()), "pid"),
        exp.alias_(timestamp_value(dt.datetime.now(dt.UTC).replace(tzinfo=None)), "since"),
        copy=False,
    )
    return dialect.render(exp.Create(this=table_node(name), kind="TABLE", expression=holder), pretty=False)


def _holder(dao: Dao, dialect: Dialect, name: str) -> tuple[str, int, object] | None:
    query = (
        exp.Select()
        .select(*(exp.column(c) for c in ("host", "pid", "since")), copy=False)
        .from_(table_node(name), copy=False)
    )
    try:
        frame = dao.execute(dialect.render(query, pretty=False))
    except Exception:
        return None
    if frame.empty:
        return None
    row = frame.iloc[0]
    return str(row["host"]), int(row["pid"]), row["since"]


def _gone(host: str, pid: int) -> bool:
    """The holder ran on this host and its process no longer exists."""
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def _table_lock(dao: Dao, dialect: Dialect, tables: StateTables) -> Iterator[None]:
    name = _lock_table(tables)
    for _ in range(2):
        try:
            dao.execute(_create_lock_sql(name, dialect))
            break
        except Exception as error:
            holder = _holder(dao, dialect, name)
            if holder is None:
                raise ExpsqlError(f"cannot create the refresh lock {name}: {error}") from error
            host, pid, since = holder
            if not _gone(host, pid):
                raise RefreshBusy(
                    f"another refresh of experiment {tables.experiment!r} is running (process {pid} on "
                    f"{host}, since {since}: it holds the lock table {name}); run again when it has "
                    "finished, or drop that table if that process is gone"
                ) from None
            dao.execute(drop_table_sql(name, dialect.sqlglot_dialect))  # its holder was killed: take it over
    else:
        raise RefreshBusy(f"another refresh of experiment {tables.experiment!r} took the lock {name} first")
    try:
        yield
    finally:
        dao.execute(drop_table_sql(name, dialect.sqlglot_dialect))
