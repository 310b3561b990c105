"""Load rows from anywhere and validate them once.

Rows may be a pandas DataFrame, a list of dicts, a pyarrow Table or a path to a CSV, Parquet, JSON
or JSON-lines file; their contract is recognised from the columns (:mod:`.detection`). Validation
refuses a frame that is not the contract (missing or non-numeric columns, text in a value column,
rows of another experiment) with a RowsError. Single bad cells are reported, not fatal
(:class:`CellIssue`): a missing value counts as 0 (SQL's ``SUM`` of NULLs is NULL, and pandas cannot
tell NULL from NaN), a negative count or an infinity makes the sums that read it NaN. Variants and
goals without rows count as zeros, as in ep-stats.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from expsql.contracts import (
    GOAL_KEYS,
    GOAL_VALUES,
    METRIC_CLUSTER_VALUES,
    METRIC_COVARIATE_VALUES,
    METRIC_KEYS,
    METRIC_QUANTILE_VALUES,
    METRIC_VALUES,
)
from expsql.errors import RowsError
from expsql.grammar.ast import GoalKey
from expsql.models import Experiment

Contract = Literal["goal rows", "metric rows", "unit rows", "wide rows"]
RowsLike = pd.DataFrame | Sequence[Mapping[str, Any]] | str | Path | Any

#: Columns that are sums of squares or counts: a negative value means the query is wrong.
NON_NEGATIVE: dict[Contract, tuple[str, ...]] = {
    "goal rows": ("count", "sum_sqr_count", "sum_sqr_value", "count_unique"),
    "metric rows": ("n", "sum_x2", "sum_y2"),
}


def load_rows(rows: RowsLike) -> pd.DataFrame:
    """Any supported input as a DataFrame (a copy: the caller's frame is never modified)."""
    if isinstance(rows, pd.DataFrame):
        return rows.copy()
    if isinstance(rows, str | Path):
        return _read_file(Path(rows))
    if hasattr(rows, "to_pandas") and hasattr(rows, "schema"):  # a pyarrow Table or RecordBatch
        return rows.to_pandas()
    if isinstance(rows, Sequence) and all(isinstance(row, Mapping) for row in rows):
        return pd.DataFrame.from_records(list(rows))
    raise RowsError(
        f"cannot read rows from a {type(rows).__name__}: give a pandas DataFrame, a list of dicts, "
        "a pyarrow Table or a path to a .csv, .parquet, .json or .jsonl file"
    )


def _read_file(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise RowsError(f"{path}: no such file")
    try:
        return _read_by_suffix(path)
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        ValueError,
        OSError,
    ) as error:
        if isinstance(error, RowsError):
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RowsError(f"{path}: cannot be read as {path.suffix.lower() or 'rows'}: {reason}") from None


def _read_by_suffix(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        # Text in, numbers checked later: a dimension label such as "1" or "NA" must stay text.
        # A row longer than the header is an error, not an index column or a silently cut row.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], index_col=False)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".jsonl", ".ndjson"):
        lines = path.read_text(encoding="utf-8").splitlines()
        return pd.DataFrame.from_records([json.loads(line) for line in lines if line.strip()])
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise RowsError(f"{path}: not valid JSON: {error}") from None
        if isinstance(data, list):
            return pd.DataFrame.from_records(data)
        if isinstance(data, dict):
            return pd.DataFrame(data)
        raise RowsError(f"{path}: expected a list of rows or a mapping of columns")
    raise RowsError(f"{path}: unknown file type {suffix!r} (use .csv, .parquet, .json or .jsonl)")


def dimension_names(keys: Sequence[GoalKey]) -> list[str]:
    """The dimension columns goal rows carry for these goal keys, in first-seen order."""
    return list(dict.fromkeys(d.name for key in keys for d in key.dimensions))


@dataclass(frozen=True)
class CellIssue:
    """Cells of one value column that no correct query produces, or that are missing.

    ``kind`` is ``missing`` (NULL or NaN: counted as 0), ``negative`` (a count, ``n`` or sum of
    squares below 0) or ``infinite``; the last two are NaN in the clean frame, so every sum that
    reads them is NaN and the metric × variant that reads them gets NaN statistics.
    """

    kind: Literal["missing", "negative", "infinite"]
    column: str
    rows: np.ndarray


@dataclass(frozen=True)
class ValidRows:
    """Validated rows: keys as text, values as floats, and what was wrong with single cells."""

    frame: pd.DataFrame
    issues: tuple[CellIssue, ...]
    duplicates: np.ndarray  # positions of rows whose every label is another row's too


def validate(
    frame: pd.DataFrame, contract: Contract, experiment: Experiment, dimensions: Sequence[str] = ()
) -> pd.DataFrame:
    """The clean frame of :func:`validate_rows`."""
    return validate_rows(frame, contract, experiment, dimensions).frame


def validate_rows(
    frame: pd.DataFrame, contract: Contract, experiment: Experiment, dimensions: Sequence[str] = ()
) -> ValidRows:
    """Keys (and ``dimensions`` of goal rows) as text, values as floats.

    A frame that is not the contract raises :class:`RowsError`: a value column that is not numeric
    or holds text, rows of another experiment. A bad *cell* (missing, negative, infinite) is
    reported as a :class:`CellIssue` instead, so one broken goal does not stop the scorecard.
    """
    keys = GOAL_KEYS if contract == "goal rows" else METRIC_KEYS
    values = GOAL_VALUES if contract == "goal rows" else METRIC_VALUES
    text_columns = [*keys, *(dimensions if contract == "goal rows" else ())]
    clean = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for column in text_columns:
        clean[column] = as_text(frame[column])
    issues: list[CellIssue] = []
    for column in values:
        numbers = _as_number(frame[column], column, clean, keys)
        missing = np.flatnonzero(numbers.isna().to_numpy())
        if missing.size:
            issues.append(CellIssue("missing", column, missing))
        numbers = numbers.fillna(0.0)
        array = numbers.to_numpy()
        infinite = np.flatnonzero(np.isinf(array))
        if infinite.size:
            issues.append(CellIssue("infinite", column, infinite))
        negative = np.flatnonzero(array < 0) if column in NON_NEGATIVE[contract] else np.array([], int)
        if negative.size:
            issues.append(CellIssue("negative", column, negative))
        array = array.copy()
        array[np.concatenate([infinite, negative])] = np.nan
        clean[column] = array
    covariates: tuple[str, ...] = ()
    if contract == "metric rows":
        covariates = (
            *covariate_columns(frame, METRIC_COVARIATE_VALUES),
            *covariate_columns(frame, METRIC_QUANTILE_VALUES, "quantile"),
            *covariate_columns(frame, METRIC_CLUSTER_VALUES, "event-quantile"),
        )
    for column in covariates:
        # NULL is "no covariate" (a metric CUPED does not adjust), not 0; an infinity is as unusable.
        covariate = _as_number(frame[column], column, clean, keys).to_numpy(copy=True)
        covariate[np.isinf(covariate)] = np.nan
        clean[column] = covariate
    reject_other_experiments(clean["exp_id"], experiment)
    labels = [c for c in frame.columns if c not in values and c not in covariates]
    duplicates = np.flatnonzero(_as_labels(frame, labels, clean).duplicated(keep=False).to_numpy())
    return ValidRows(clean, tuple(issues), duplicates)


def covariate_columns(frame: pd.DataFrame, names: Sequence[str], what: str = "CUPED") -> tuple[str, ...]:
    """The optional columns ``names`` (CUPED's, or quantile metrics') when the frame has them all,
    ``()`` when it has none of them; NULL in them means "does not apply to this row".

    A frame with only some of them is a RowsError naming the missing ones.
    """
    present = [name for name in names if name in frame.columns]
    if not present:
        return ()
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise RowsError(
            f"the rows carry {what} columns {', '.join(present)} but miss {', '.join(missing)}: "
            "give all of them or none"
        )
    return tuple(names)


def reject_other_experiments(exp_ids: pd.Series, experiment: Experiment, rows: str = "rows") -> None:
    """A RowsError naming up to five other experiment ids found among ``exp_ids``."""
    foreign = sorted(set(exp_ids.unique()) - {experiment.id})
    if foreign:
        shown = ", ".join(repr(e) for e in foreign[:5])
        raise RowsError(
            f"rows of other experiments ({shown}) among the {rows} of experiment {experiment.id!r}: "
            "filter the rows to one experiment"
        )


def _as_labels(frame: pd.DataFrame, labels: list[str], clean: pd.DataFrame) -> pd.DataFrame:
    """Every non-value column as text (the validated keys where there are some)."""
    return pd.DataFrame({c: clean[c] if c in clean else as_text(frame[c]) for c in labels})


def as_text(column: pd.Series) -> pd.Series:
    """Text keys; a missing value (NULL, NaN) is ``''``, which ep-stats reads as "not broken down"."""
    if pd.api.types.is_float_dtype(column):
        return column.astype(object).where(column.notna(), "").map(_text_of)
    return column.astype(object).where(column.notna(), "").astype(str).astype(object)


def _text_of(value: Any) -> str:
    # An integer stored as float by a warehouse or CSV reader (1.0) is the label "1".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_number(column: pd.Series, name: str, clean: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    """Floats, NaN where missing; a non-numeric column or text cell is a RowsError naming the row."""
    if pd.api.types.is_bool_dtype(column) or not (
        pd.api.types.is_numeric_dtype(column)
        or column.dtype == object
        or pd.api.types.is_string_dtype(column)
    ):
        raise RowsError(f"column {name!r} must be numeric, got {column.dtype}")
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    text = column.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v)
    # Spelled-out NaN and infinities ("nan", "inf") are numbers, to be reported as such below.
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    bad = numbers.isna() & text.notna() & ~text.map(_spells_nan)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        others = int(bad.sum()) - 1
        raise RowsError(
            f"column {name!r} holds a non-numeric value {column.iloc[row]!r} in row {row}"
            + (f" ({describe_row(clean, keys, row)})" if keys else "")
            + (f" and in {others} other row(s)" if others else "")
        )
    return numbers


def strict_numbers(column: pd.Series, name: str) -> pd.Series:
    """Floats for the contracts read strictly (unit and wide rows): NULL is 0, an infinity a RowsError."""
    numbers = _as_number(column, name, pd.DataFrame(), ()).fillna(0.0)
    infinite = ~np.isfinite(numbers.to_numpy())
    if infinite.any():
        raise RowsError(f"column {name!r} holds an infinite value in row {int(np.flatnonzero(infinite)[0])}")
    return numbers


def _spells_nan(value: Any) -> bool:
    return (isinstance(value, str) and value.lower() in ("nan", "")) or (
        isinstance(value, float) and np.isnan(value)
    )


def describe_row(clean: pd.DataFrame, keys: Sequence[str], row: int) -> str:
    """``exp_variant_id='b', goal='click'``: the row's keys after the experiment id."""
    return ", ".join(f"{k}={clean.at[row, k]!r}" for k in keys[1:])


def variant_order(experiment: Experiment, observed: pd.Series) -> list[str]:
    """The variants in output order: the experiment's list, else sorted data variants ∪ control.

    Rows of variants outside an explicit list are dropped (as ep-stats drops them); see
    :func:`unknown_variants`.
    """
    if experiment.variants is not None:
        return list(experiment.variants)
    return sorted(set(observed.unique().tolist()) | {experiment.control_variant})


def unknown_variants(variants: Sequence[str], observed: pd.Series) -> dict[str, int]:
    """Variants of rows outside ``variants``, with their number of rows."""
    counts = observed[~observed.isin(list(variants))].value_counts()
    return {str(v): int(n) for v, n in sorted(counts.items())}


def codes(column: pd.Series, categories: list[str]) -> np.ndarray:
    """Each value's position in ``categories``, -1 for values outside them."""
    # A hash lookup in C: Series.map with a dict is ~30x slower on millions of rows.
    return pd.Index(categories).get_indexer(pd.Index(column)).astype(int, copy=False)
