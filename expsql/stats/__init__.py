"""Statistics: rows of any contract → a scorecard; planning. Pure numpy/scipy, no SQL.

- :mod:`~expsql.stats.rows`        — load (DataFrame, dicts, pyarrow, CSV/Parquet/JSON), recognise, validate
- :mod:`~expsql.stats.goal_rows`   — ep-stats' expression semantics on goal rows, per-variant vectors
- :mod:`~expsql.stats.metric_rows` — exact ratios with delta-method variances from metric rows
- :mod:`~expsql.stats.unit_rows`   — per-unit rows evaluated exactly into metric-rows sums
- :mod:`~expsql.stats.wide_rows`   — ep-stats' wide per-variant table read as goal rows
- :mod:`~expsql.stats.outliers`    — percentile winsorization of the per-unit nominator
- :mod:`~expsql.stats.cuped`       — CUPED: metrics adjusted by their pre-exposure values
- :mod:`~expsql.stats.ttest`       — ep-stats' relative Welch t-test, vectorised over metrics × variants
- :mod:`~expsql.stats.corrections` — Holm, Bonferroni, Benjamini–Hochberg across treatment variants
- :mod:`~expsql.stats.sequential`  — exact Lan–DeMets O'Brien–Fleming boundaries; ep-stats' rule
- :mod:`~expsql.stats.always_valid` — ``sequential: always-valid``: asymptotic confidence sequences
- :mod:`~expsql.stats.bayesian`    — ``inference: bayesian``: posterior, chance to win, risks
- :mod:`~expsql.stats.readouts`    — the readout options and how each fills the metrics table
- :mod:`~expsql.stats.metric_table` — test → readout → correction → planning: the metrics table
- :mod:`~expsql.stats.checks`      — SRM (with planned weights and a verdict) and SumRatio
- :mod:`~expsql.stats.planning`    — sample size, power, minimum detectable effect, false-positive risk
- :mod:`~expsql.stats.timeline`    — ``timeline: daily``: each day evaluated as that day's look
- :mod:`~expsql.stats.evaluation`  — the frozen :class:`Evaluation` result
- :mod:`~expsql.stats.scorecard`   — :func:`evaluate`, which ties them together

Where expsql deliberately differs from ep-stats (2.5.x), everything else following its formulas:

1. **Sequential testing** defaults to exact Lan–DeMets O'Brien–Fleming boundaries for the daily looks
   so far (two-sided, each side spending α/2, as ldbounds/gsDesign), which keep the overall
   false-positive rate of daily peeking at α. ep-stats' nominal per-day level (real rate 6–7 %) is
   ``sequential="ep-stats"``; ``"none"`` switches it off.
2. **Holm** (and every other correction) takes the treatment variants of a metric as the family,
   found by the control's name: ep-stats adjusts the wrong rows when the control does not sort first.
3. **Negative control mean**: the standard error divides by ``|m_C|``, so ``standard_error`` and
   ``confidence_interval`` are positive and ``test_stat`` has the sign of ``diff``; ep-stats divides by
   the signed mean and reports them negative (its p-values are the same).
4. **Degenerate inputs** (one unit or none, control mean 0, zero variance in both arms, negative
   variance, no denominator) give NaN test statistics, p-values and CIs plus one
   :class:`DegenerateInputWarning` naming each metric and variant; ep-stats returns ±inf or NaN,
   warning only on negative variances.
5. **Corrections ignore untestable variants**: a NaN p-value is not counted in the family size
   (statsmodels, and so ep-stats, counts it). Bonferroni, Benjamini–Hochberg and none are added;
   their CIs are widened the way ep-stats widens Holm's (level ``α · p / p_adj``).
6. **p-values** are ``2·sf(|t|)`` rather than ``2·(1 − cdf(|t|))``: equal to ~1e-16, but tiny
   p-values do not round to 0.
7. **SRM** accepts ``experiment.variant_weights`` for unequal splits and both checks report a
   ``passed`` column (SRM: ``p ≥ 1 − confidence_level``; SumRatio: ``sum_ratio ≤ max_sum_ratio``).
8. **Metric rows** (expsql's exact contract, which ep-stats lacks) use the delta-method ratio variance;
   there ``count`` and ``sample_size`` are the exposed units and ``std = sqrt(n · Var(R))``.
9. **Results**: no ``timestamp`` column; extra ``absolute_diff, ci_lower, ci_upper, significant``;
   checks carry ``passed``; ``to_dict()`` is standard JSON (NaN/inf → null, ep-stats emits bare NaN).
10. **Rows** are validated (ep-stats sums whatever it gets): missing or non-numeric columns, text in a
    value column and rows of another experiment raise :class:`~expsql.errors.RowsError`; a negative
    count, ``n`` or sum of squares or an infinite value makes the statistics of the metrics × variants
    that read it NaN; NULL/NaN cells count as 0, duplicate rows are summed and rows of variants
    outside an explicit list (or, in metric rows, of unknown ids) are dropped — each with a
    :class:`RowsWarning` naming the goal or metric and the variant (:mod:`~expsql.stats.bad_rows`).
11. **Minimum detectable effect** and a closed-form ``power`` for planning, which ep-stats lacks.
12. **Unit rows** (ep-stats' ``evaluate_by_unit`` input) are evaluated exactly as metric rows:
    every function and compound expression per unit (ep-stats reads one goal per side and ignores
    the function), over the units with an exposure count above 0, exposure rows matched like any
    goal term (dimension columns ``''``). Winsorization applies there; on goal and wide rows,
    which hold per-variant sums only, it is a :class:`~expsql.errors.RowsError` (ep-stats ignores it).
13. **Wide rows** (``evaluate_wide_agg``): a goal without a column, or read by ``count()``,
    ``unique()``, a dimension or another unit or aggregation type, is a RowsError (ep-stats evaluates
    zeros). ``sample_size`` is ``count`` as for ep-stats' ``SimpleMetric``; exposures are 0.
14. **CUPED** (:mod:`~expsql.stats.cuped`), which ep-stats lacks: with ``cuped_lookback_days`` and
    metric or unit rows carrying covariate sums, each metric is adjusted by its pre-exposure value
    (tea-tasting's estimator); ``cuped`` and ``variance_reduction`` say where and by how much.
"""

from expsql.stats.evaluation import Evaluation
from expsql.stats.planning import minimum_detectable_effect, power, sample_size
from expsql.stats.scorecard import CupedWarning, DegenerateInputWarning, RowsWarning, evaluate
from expsql.stats.tables import Table

__all__ = [
    "CupedWarning",
    "DegenerateInputWarning",
    "Evaluation",
    "RowsWarning",
    "Table",
    "evaluate",
    "minimum_detectable_effect",
    "power",
    "sample_size",
]
