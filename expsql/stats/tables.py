"""Named read-only columns, the storage of every result (:class:`Table`), the columns of each
part of an evaluation, and the plain-text cells ``str()`` of a result prints."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

EXPOSURE_COLUMNS: tuple[str, ...] = ("exp_variant_id", "exposures", "exp_id")


METRIC_COLUMNS: tuple[str, ...] = (
    "exp_id", "metric_id", "metric_name", "exp_variant_id", "count", "mean", "std", "sum_value",
    "confidence_level", "diff", "test_stat", "p_value", "confidence_interval", "standard_error",
    "degrees_of_freedom", "minimum_effect", "sample_size", "required_sample_size", "power",
    "false_positive_risk", "absolute_diff", "ci_lower", "ci_upper", "significant", "cuped",
    "variance_reduction", "chance_to_win", "risk_control", "risk_treatment",
)  # fmt: skip


CHECK_COLUMNS: tuple[str, ...] = ("exp_id", "check_id", "check_name", "variable_id", "value", "passed")


@dataclass(frozen=True)
class Table:
    """Named, equally long, read-only columns."""

    columns: tuple[str, ...]
    data: tuple[np.ndarray, ...]

    @classmethod
    def build(cls, columns: tuple[str, ...], values: Mapping[str, Any]) -> Table:
        length = max((np.size(v) for v in values.values() if np.ndim(v)), default=0)
        arrays = []
        for name in columns:
            array = np.array(values[name], copy=True)
            if array.ndim == 0:
                array = np.full(length, array.item(), dtype=object if array.dtype.kind in "OUS" else None)
            if array.dtype.kind in "US":
                array = array.astype(object)
            array.setflags(write=False)
            arrays.append(array)
        return cls(columns, tuple(arrays))

    def __len__(self) -> int:
        return len(self.data[0]) if self.data else 0

    def column(self, name: str) -> np.ndarray:
        return self.data[self.columns.index(name)]

    def to_dicts(self) -> list[dict[str, Any]]:
        lists = [array.tolist() for array in self.data]
        return [dict(zip(self.columns, row, strict=True)) for row in zip(*lists, strict=True)]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame({name: array.copy() for name, array in zip(self.columns, self.data, strict=True)})


def aligned(rows: Sequence[tuple[str, ...]], right: tuple[int, ...]) -> Iterator[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        yield "  ".join(cells).rstrip()


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def number_text(value: Any) -> str:
    return f"{value:.4g}" if _finite(value) else "n/a"


def percent_text(value: Any) -> str:
    return f"{value:+.2%}" if _finite(value) else "n/a"


def count_text(value: Any) -> str:
    return f"{value:,.0f}" if _finite(value) else "n/a"


def chance_text(value: Any) -> str:
    return f"{value:.1%}" if _finite(value) else "n/a"


def verdict_text(chance_to_win: Any, threshold: float) -> str:
    """``won`` / ``lost`` when the chance to win passes the threshold or falls below 1 − it."""
    if not _finite(chance_to_win):
        return ""
    return "won" if chance_to_win > threshold else "lost" if chance_to_win < 1 - threshold else ""
