"""Breakdowns and the timeline in every readout, on DuckDB: the demo's events through the whole
pipeline (compile → DuckDB → evaluate) with ``inference: bayesian`` and ``sequential:
always-valid`` beside today's default.

Each segment of a breakdown is the evaluation of that segment's own rows in the same readout, and
its correction the readout's (none under Bayesian inference); the timeline's last day is the
evaluation, every day of an always-valid timeline is read at the nominal level, and every day of a
Bayesian one carries its chance to win.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from expsql import runner
from expsql.demo import demo_experiment, write_demo_database
from expsql.source import load_source
from expsql.stats import evaluate
from expsql.stats.breakdowns import summed

SOURCE = Path(__file__).resolve().parents[2] / "examples" / "demo-source.yaml"
READOUTS: dict[str, dict[str, Any]] = {
    "frequentist": {},
    "always-valid": {"sequential": "always-valid"},
    "bayesian": {"inference": "bayesian"},
}
COLUMNS = ["diff", "ci_lower", "ci_upper", "p_value", "chance_to_win", "risk_treatment", "significant"]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_database(tmp_path_factory.mktemp("readouts") / "demo.duckdb", units=8_000)


def run(database: Path, **fields: Any) -> runner.Run:
    experiment = demo_experiment().model_copy(update=fields)
    dao = runner.connect("duckdb", str(database), {"read_only": True})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runner.run(experiment, dao, dialect="duckdb", rows="metrics", source=load_source(SOURCE))


@pytest.mark.parametrize("readout", sorted(READOUTS))
def test_each_segment_is_its_own_rows_evaluated_in_the_same_readout(database: Path, readout: str) -> None:
    result = run(database, breakdown=["platform"], **READOUTS[readout])
    breakdowns = result.evaluation.breakdowns
    assert breakdowns is not None
    assert result.evaluation.inference == ("bayesian" if readout == "bayesian" else "frequentist")
    plain = result.experiment.model_copy(update={"breakdown": []})
    labels = result.frame["platform"].astype(object).where(result.frame["platform"].notna(), "(null)")
    metrics = breakdowns.metrics
    for segment in breakdowns.segments("platform"):
        rows = summed(result.frame[(labels == segment).to_numpy()], ["platform"]).reset_index(drop=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = evaluate(plain, rows).metrics
        got = metrics[metrics["segment"] == segment].reset_index(drop=True)
        pd.testing.assert_frame_equal(got[COLUMNS], expected[COLUMNS], check_dtype=False)
    treatments = metrics[metrics["exp_variant_id"] != "a"]
    assert treatments["chance_to_win"].notna().any() == (readout == "bayesian")
    assert result.evaluation.correction == ("none" if readout == "bayesian" else "holm")


@pytest.mark.parametrize("readout", sorted(READOUTS))
def test_the_timeline_ends_in_the_evaluation_and_reads_each_day_as_the_readout_says(
    database: Path, readout: str
) -> None:
    result = run(database, timeline="daily", **READOUTS[readout])
    timeline = result.evaluation.timeline
    assert timeline is not None
    last = timeline[timeline["day"] == timeline["day"].max()].reset_index(drop=True)
    overall = result.evaluation.metrics
    for column in ("diff", "ci_lower", "ci_upper", "p_value", "chance_to_win", "confidence_level"):
        np.testing.assert_array_equal(last[column].to_numpy(float), overall[column].to_numpy(float))
    levels = timeline["confidence_level"].unique()
    if readout == "frequentist":  # O'Brien–Fleming: the early looks are stricter
        assert levels.max() > 0.99 and levels.min() >= 0.95
    else:  # always-valid spends no α; Bayesian reads each posterior at the credible level
        assert levels.tolist() == [0.95]
    chances = timeline[timeline["exp_variant_id"] != "a"]["chance_to_win"]
    if readout == "bayesian":  # NaN only on the first days' degenerate looks (no conversion yet)
        assert chances.notna().mean() > 0.9
    else:
        assert chances.isna().all()


def test_the_always_valid_sequence_is_wider_than_the_last_fixed_horizon_interval(database: Path) -> None:
    sequence = run(database, sequential="always-valid").evaluation.metrics
    fixed = run(database, sequential="none").evaluation.metrics
    treatment = (sequence["exp_variant_id"] != "a").to_numpy()
    width = (sequence["ci_upper"] - sequence["ci_lower"]).to_numpy()[treatment]
    fixed_width = (fixed["ci_upper"] - fixed["ci_lower"]).to_numpy()[treatment]
    assert (width > fixed_width).all()
    # Two runs of one query: DuckDB's parallel sums may differ in the last bits.
    np.testing.assert_allclose(sequence["diff"].to_numpy(), fixed["diff"].to_numpy(), rtol=1e-12)


@pytest.fixture(scope="module")
def exposures_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readouts-exposures") / "demo.duckdb"
    return write_demo_database(path, units=8_000, layout="exposures")


def test_every_metric_kind_is_read_from_the_frequentist_estimate_and_its_standard_error(
    exposures_database: Path,
) -> None:
    """Mean, ratio, compound, winsorized and CUPED-adjusted metrics (the demo's exposures layout):
    the flat posterior is N(diff, se²) of the frequentist test, the sequence diff ± c(N)·se."""
    from scipy import stats

    from expsql.stats import always_valid

    base = demo_experiment(cuped_lookback_days=7)
    metrics = [m.model_dump() for m in base.metrics]
    metrics[1] |= {"outlier_upper_percentile": 1}  # revenue per user, winsorized
    experiment = base.model_validate(base.model_dump() | {"metrics": metrics})
    source = load_source(SOURCE.parent / "exposures-source.yaml")
    dao = runner.connect("duckdb", str(exposures_database), {"read_only": True})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = runner.run(experiment, dao, dialect="duckdb", rows="metrics", source=source).frame
        fixed = evaluate(experiment, frame, sequential="none").metrics
        bayesian = evaluate(experiment, frame, inference="bayesian").metrics
        sequence = evaluate(experiment, frame, sequential="always-valid", correction="none").metrics
    treated = (fixed["exp_variant_id"] != "a").to_numpy() & fixed["standard_error"].notna().to_numpy()
    assert fixed["cuped"].any()
    diff, error = fixed["diff"].to_numpy()[treated], fixed["standard_error"].to_numpy()[treated]
    np.testing.assert_allclose(bayesian["diff"].to_numpy()[treated], diff, rtol=1e-12)
    np.testing.assert_allclose(bayesian["standard_error"].to_numpy()[treated], error, rtol=1e-12)
    chance = stats.norm.sf(0, diff, error)
    np.testing.assert_allclose(bayesian["chance_to_win"].to_numpy()[treated], chance, rtol=1e-12)
    control_units = fixed["count"].to_numpy()[(fixed["exp_variant_id"] == "a").to_numpy()]
    total = fixed["count"].to_numpy().reshape(len(metrics), -1) + control_units[:, np.newaxis]
    width = always_valid.half_width(error, total.ravel()[treated], 0.05)
    np.testing.assert_allclose(sequence["ci_upper"].to_numpy()[treated], diff + width, rtol=1e-12)
