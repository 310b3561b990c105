"""Multiple-comparison corrections against Benjamini–Hochberg (1995) and statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from expsql.stats.corrections import adjust_p_values, widened_confidence_intervals

# Benjamini & Hochberg (1995), the 15 p-values of their example.
BH_1995 = np.array(
    [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719,
     0.6528, 0.7590, 1.0]
)  # fmt: skip


def test_holm_rejects_three_and_benjamini_hochberg_four_of_the_1995_example() -> None:
    holm = adjust_p_values(BH_1995[np.newaxis, :], "holm")
    bh = adjust_p_values(BH_1995[np.newaxis, :], "benjamini-hochberg")
    assert int((holm < 0.05).sum()) == 3
    assert int((bh < 0.05).sum()) == 4


@pytest.mark.parametrize(
    ("ours", "theirs"), [("holm", "holm"), ("bonferroni", "bonferroni"), ("benjamini-hochberg", "fdr_bh")]
)
def test_adjustments_agree_with_statsmodels_multipletests_row_by_row(ours: str, theirs: str) -> None:
    # Few rows: statsmodels' multipletests runs gc.collect() on every call, slow inside pytest.
    rng = np.random.default_rng(5)
    p_values = rng.uniform(0, 0.2, size=(10, 4)) ** rng.uniform(0.5, 3, size=(10, 1))
    adjusted = adjust_p_values(p_values, ours)  # type: ignore[arg-type]
    for row, expected in zip(p_values, adjusted, strict=True):
        assert expected == pytest.approx(multipletests(row, alpha=0.05, method=theirs)[1], rel=1e-12)


def test_nan_p_values_stay_nan_and_do_not_count_in_the_family() -> None:
    p_values = np.array([[0.01, np.nan, 0.04]])
    holm = adjust_p_values(p_values, "holm")
    assert np.isnan(holm[0, 1])
    assert holm[0, [0, 2]] == pytest.approx(multipletests([0.01, 0.04], method="holm")[1])
    bh = adjust_p_values(p_values, "benjamini-hochberg")
    assert bh[0, [0, 2]] == pytest.approx(multipletests([0.01, 0.04], method="fdr_bh")[1])


def test_none_returns_the_p_values_unchanged_and_unknown_methods_fail() -> None:
    p_values = np.array([[0.01, 0.5]])
    assert adjust_p_values(p_values, "none").tolist() == p_values.tolist()
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_p_values(p_values, "sidak")  # type: ignore[arg-type]


def test_widened_intervals_use_the_level_alpha_times_p_over_adjusted_p() -> None:
    # ep-stats' README example: b's raw p .82447, c's .67595, both adjusted to 1.
    p_values = np.array([[0.82447, 0.67595]])
    adjusted = adjust_p_values(p_values, "holm")
    assert adjusted.tolist() == [[1.0, 1.0]]
    widened = widened_confidence_intervals(
        p_values, adjusted, np.array([[0.586008, 0.617862]]), np.array([[43.0, 44.0]]), 0.05
    )
    assert widened[0] == pytest.approx([1.233215, 1.353695], abs=2e-5)
    # A p-value of 0 adjusted to 0 keeps the nominal interval (ratio 0/0 → 1).
    same = widened_confidence_intervals(
        np.array([[0.0]]), np.array([[0.0]]), np.array([[1.0]]), np.array([[1e6]]), 0.05
    )
    assert same[0, 0] == pytest.approx(1.959966, abs=1e-5)
