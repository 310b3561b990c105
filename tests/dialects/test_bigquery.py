"""BigQuery: no engine here, so its SQL is checked by sqlglot's BigQuery parser, and its
connector's missing client is reported with the extra to install."""

from __future__ import annotations

import importlib.util

import pytest
import sqlglot
from sqlglot import exp

from expsql.compiler import compile_sql
from expsql.dialects import get
from expsql.errors import DialectError
from tests.engines.test_cross_engine import EXPERIMENTS, SOURCE


def _client_installed() -> bool:
    try:
        return importlib.util.find_spec("google.cloud.bigquery") is not None
    except ImportError:
        return False


@pytest.mark.skipif(_client_installed(), reason="google-cloud-bigquery is installed here")
def test_missing_client_names_the_extra_to_install() -> None:
    assert not get("bigquery").connector_installed()
    with pytest.raises(DialectError, match=r"pip install 'expsql\[bigquery\]'"):
        get("bigquery").connect("my-project")


@pytest.mark.parametrize("contract", ["goals", "metrics"])
def test_identifiers_are_backquoted_and_strings_escaped_for_bigquery(contract: str) -> None:
    sql = compile_sql(EXPERIMENTS["exp-1"], dialect="bigquery", rows=contract, source=SOURCE)
    tree = sqlglot.parse_one(sql, read="bigquery")
    assert "`events`" in sql
    assert '"' not in sql  # BigQuery reads double quotes as strings, never as identifiers
    literals = {node.this for node in tree.find_all(exp.Literal) if node.is_string}
    assert "exp-1" in literals


def test_prefix_match_is_starts_with_for_bigquery() -> None:
    sql = compile_sql(EXPERIMENTS["exp-1"], dialect="bigquery", rows="goals", source=SOURCE)
    assert "STARTS_WITH(" in sql
    assert " LIKE " not in sql
