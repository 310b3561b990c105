"""What was wrong with the rows, in words that name the metric and the variant it affects.

:func:`~expsql.stats.rows.validate_rows` finds bad cells and duplicate rows; this module says which
goal (or metric row) and variant each belongs to and which metrics, checks or exposures read it,
and finds the metric × variant pairs whose statistics a bad cell poisoned (made NaN):

- a **missing** cell (NULL or NaN) counts as 0, as SQL's ``SUM`` of NULLs and ep-stats' pandas
  sums treat it; the warning says so, since a NaN event value would also end up here;
- a **negative** count, ``n`` or sum of squares, or an **infinite** value, is NaN in the sums, so
  the metrics that read it get NaN statistics for that variant; every other pair is evaluated;
- **duplicate** rows (every label equal) are summed, as ep-stats sums them: the columns are sums
  over units, so rows of disjoint sets of units (say two shards of one query) add up exactly;
  the warning asks to check that, since the same units in two rows break "squared after summing";
- rows of **variants** outside ``experiment.variants`` and metric rows of **unknown ids** are
  ignored, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from expsql.contracts import EXPOSURE_ROW_ID, GOAL_VALUES, check_row_id, metric_row_id, overall_row_id
from expsql.grammar.ast import Expr, GoalKey, goals
from expsql.models import Experiment
from expsql.stats.goal_rows import GoalTotals, exposure_rows
from expsql.stats.metric_rows import MetricSums
from expsql.stats.rows import CellIssue, ValidRows

#: At most this many (goal or metric, variant) places are named in one message.
EXAMPLES = 10

#: Which goal-rows columns each function reads.
READS: dict[str, tuple[str, ...]] = {
    "count": ("count", "sum_sqr_count"),
    "value": ("sum_value", "sum_sqr_value"),
    "unique": ("count_unique",),
}

EXPOSURES = "exposures"

#: Where a row belongs and who reads it: ``(row, column or None) → ("goal … variant b", readers)``.
Place = Callable[[int, str | None], tuple[str, list[str]] | None]
Groups = dict[str, tuple[int, list[str]]]


def goal_readers(experiment: Experiment, keys: list[GoalKey]) -> dict[tuple[int, str], list[str]]:
    """``(goal key index, column) → names of the metrics and checks that read that column``."""
    position = {key: i for i, key in enumerate(keys)}
    readers: dict[tuple[int, str], dict[str, None]] = {}  # ordered sets of names

    def add(name: str, expressions: tuple[Expr | None, ...]) -> None:
        for expression in expressions:
            for goal in goals(expression) if expression is not None else ():
                for column in READS[goal.function]:
                    readers.setdefault((position[goal.key], column), {})[name] = None

    for metric in experiment.metrics:
        add(f"metric {metric.id} ({metric.name})", (metric.nominator_expr, metric.denominator_expr))
    for check in experiment.checks:
        add(f"check {check.id} ({check.name})", (check.nominator_expr, check.denominator_expr))
    exposure = position[experiment.exposure_goal.key]
    readers.setdefault((exposure, "count"), {})[EXPOSURES] = None
    return {place: list(names) for place, names in readers.items()}


def goal_row_messages(
    valid: ValidRows, experiment: Experiment, variants: list[str], keys: list[GoalKey], key_codes: np.ndarray
) -> list[str]:
    """Warnings for the bad cells and duplicates of goal rows that the evaluation reads."""
    if not valid.issues and not valid.duplicates.size:
        return []
    readers = goal_readers(experiment, keys)
    any_column: dict[int, list[str]] = {}  # who reads any column of a goal: for duplicate rows
    for (code, _), names in readers.items():
        any_column[code] = list(dict.fromkeys([*any_column.get(code, []), *names]))
    frame = valid.frame
    # Exposure rows broken down by a dimension match no key but are summed into the exposures.
    exposure = keys.index(experiment.exposure_goal.key)
    codes = np.where((key_codes < 0) & exposure_rows(frame, experiment), exposure, key_codes)
    in_variants = frame["exp_variant_id"].isin(variants).to_numpy()

    def place(row: int, column: str | None) -> tuple[str, list[str]] | None:
        code = int(codes[row])
        if code < 0 or not in_variants[row]:
            return None
        names = readers.get((code, column), []) if column else any_column.get(code, [])
        if column and not names:
            return None
        variant = str(frame.at[row, "exp_variant_id"])
        return f"goal {keys[code]} variant {variant}", names

    return _messages(valid, "goal rows", place)


def metric_row_messages(valid: ValidRows, experiment: Experiment, variants: list[str]) -> list[str]:
    """Warnings for the bad cells and duplicates of metric rows, and for rows of unknown ids."""
    frame = valid.frame
    names = {metric_row_id(m.id): f"metric {m.id} ({m.name})" for m in experiment.metrics}
    names |= {check_row_id(c.id): f"check {c.id} ({c.name})" for c in experiment.checks}
    names[EXPOSURE_ROW_ID] = EXPOSURES
    names |= {overall_row_id(m.id): f"metric {m.id} ({m.name})" for m in experiment.quantile_metrics()}
    in_variants = frame["exp_variant_id"].isin(variants).to_numpy()

    def place(row: int, column: str | None) -> tuple[str, list[str]] | None:
        row_id = str(frame.at[row, "metric_id"])  # keys are text once validated
        if row_id not in names or not in_variants[row]:
            return None
        variant = str(frame.at[row, "exp_variant_id"])
        return f"metric row {row_id!r} variant {variant}", [names[row_id]]

    messages = _messages(valid, "metric rows", place)
    unknown = frame.loc[~frame["metric_id"].isin(list(names)), "metric_id"]
    if len(unknown):
        ids = sorted(unknown.unique().tolist())
        shown = ", ".join(repr(i) for i in ids[:EXAMPLES]) + (", ..." if len(ids) > EXAMPLES else "")
        messages.append(
            f"ignoring {len(unknown)} metric row(s) of metric ids {shown}, which are no metric or check "
            f"of experiment {experiment.id}"
        )
    return messages


def variant_message(experiment: Experiment, variants: list[str], unknown: dict[str, int]) -> list[str]:
    if not unknown:
        return []
    return [
        f"experiment {experiment.id}: ignoring {sum(unknown.values())} row(s) of variants "
        f"{list(unknown)} that are not among variants {variants}"
    ]


def _messages(valid: ValidRows, contract: str, place: Place) -> list[str]:
    messages = []
    for issue in valid.issues:
        groups = _group(issue.rows, place, issue.column)
        if groups:
            messages.append(_issue_message(issue, contract, groups))
    groups = _group(valid.duplicates, place, None)
    if groups:
        messages.append(
            f"{contract}: duplicate rows (every label equal) were summed, as ep-stats sums them; "
            "that is right only if they cover disjoint units: " + _places(groups)
        )
    return messages


def _group(rows: np.ndarray, place: Place, column: str | None) -> Groups:
    """``where → (rows, readers)`` for the rows the evaluation reads."""
    groups: Groups = {}
    for row in rows:
        found = place(int(row), column)
        if found is None:
            continue
        where, names = found
        count, _ = groups.get(where, (0, names))
        groups[where] = (count + 1, names)
    return groups


def _issue_message(issue: CellIssue, contract: str, groups: Groups) -> str:
    if issue.kind == "missing":
        return f"{contract}: column {issue.column!r} is missing (NULL or NaN) and counted as 0 at " + _places(
            groups
        )
    what = "negative" if issue.kind == "negative" else "infinite"
    return (
        f"{contract}: column {issue.column!r} is {what}, so the statistics that read it are NaN, at "
        + _places(groups)
    )


def _places(groups: Groups) -> str:
    items = list(groups.items())
    text = "; ".join(
        f"{where} ({count} row{'s' if count > 1 else ''}, read by {', '.join(names) or 'nothing'})"
        for where, (count, names) in items[:EXAMPLES]
    )
    more = f"; and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else ""
    return text + more


def poisoned_goal_metrics(totals: GoalTotals, experiment: Experiment) -> np.ndarray:
    """``(metrics, variants)``: True where a metric reads a goal whose sums a bad cell made NaN."""
    poisoned = np.zeros((len(experiment.metrics), len(totals.variants)), dtype=bool)
    bad = np.isnan(totals.totals)
    if not bad.any():
        return poisoned
    for m, metric in enumerate(experiment.metrics):
        for goal in goals(metric.nominator_expr) + goals(metric.denominator_expr):
            read = [GOAL_VALUES.index(c) for c in READS[goal.function]]
            poisoned[m] |= bad[totals.keys[goal.key]][:, read].any(axis=1)
    return poisoned


def poisoned_metric_rows(sums: MetricSums, experiment: Experiment) -> np.ndarray:
    """``(metrics, variants)``: True where a metric's row holds a bad cell (its sums are NaN)."""
    index = [sums.row_ids[metric_row_id(m.id)] for m in experiment.metrics]
    return np.isnan(sums.sums[index]).any(axis=2) if index else np.zeros((0, len(sums.variants)), bool)
