"""A seeded run of the quantile calibration (``benchmarks/calibration_quantiles.py``).

4,000 A/A experiments per figure: unit p50 and p90 of log-normal per-unit values, and an event p90
over events strongly correlated within units, each false-positive rate within 4.3–5.7 % (5 % ± two
binomial standard errors) — the event quantile with its clustered variance; with the iid variance
(the same rows without the cluster sums) the rate is far above α, which is why the cluster sums
are in the rows.
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks.calibration_quantiles import FALSE_POSITIVE_TARGET, false_positives

EXPERIMENTS = 4000


def test_aa_quantiles_reject_at_alpha_and_the_iid_event_variance_does_not() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rates = {
            name: float(np.mean(hits))
            for name, hits in false_positives(np.random.default_rng(23), EXPERIMENTS).items()
        }
    low, high = FALSE_POSITIVE_TARGET
    for name in ("unit p50", "unit p90", "event p90, clustered variance"):
        assert low <= rates[name] <= high, (name, rates)
    assert rates["event p90, iid variance"] > 0.2, rates
