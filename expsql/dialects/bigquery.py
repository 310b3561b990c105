"""BigQuery: runs through google-cloud-bigquery (``pip install 'expsql[bigquery]'``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from expsql.dialects.base import Dialect
from expsql.dialects.frames import contract_frame
from expsql.dialects.hookspecs import hookimpl
from expsql.dialects.percentiles import percentile_cont_over
from expsql.errors import ConnectorError

if TYPE_CHECKING:
    from google.cloud import bigquery


class BigQueryDao:
    """Runs SQL as BigQuery jobs of one client."""

    def __init__(self, client: bigquery.Client, *, owned: bool = True) -> None:
        self.client = client
        self._owned = owned

    def execute(self, sql: str) -> pd.DataFrame:
        from google.api_core.exceptions import GoogleAPIError

        try:
            result = self.client.query(sql).result()
            columns = [field.name for field in result.schema]
            # Rows rather than to_dataframe(): that one needs the db-dtypes package.
            records = [tuple(row.values()) for row in result]
        except GoogleAPIError as error:
            raise ConnectorError(f"bigquery refused the query: {error}") from error
        return contract_frame(pd.DataFrame.from_records(records, columns=columns))

    def close(self) -> None:
        if self._owned:
            self.client.close()


def connect(
    target: str | None = None, *, client: bigquery.Client | None = None, **options: Any
) -> BigQueryDao:
    """A Dao billing the project ``target`` (the environment's default project when ``None``)."""
    if client is not None:
        return BigQueryDao(client, owned=False)
    from google.cloud import bigquery

    return BigQueryDao(bigquery.Client(project=target, **options))


DIALECT = Dialect(
    "bigquery",
    "bigquery",
    description="Google BigQuery (GoogleSQL)",
    connector=connect,
    extra="bigquery",
    client="google.cloud.bigquery",
    native_prefix_match=True,
    percentile_function=percentile_cont_over,
    percentile_window=True,
    timestamp_type="TIMESTAMPTZ",
    max_query_bytes=1024 * 1024,  # "maximum unresolved GoogleSQL query length: 1,024 KB"
    incremental=True,
)


@hookimpl
def expsql_dialects() -> list[Dialect]:
    return [DIALECT]
