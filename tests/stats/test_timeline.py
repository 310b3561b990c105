"""The timeline's statistics: each day is the single look a reader at the end of that day made.

Rows are built by hand from random units (no compiler): each unit enters on a day and has a
value each day after; the metric rows as of day d are computed here from the units themselves,
and a variant without activity on a day has no row that day (its sums carry over).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
import pytest

from expsql.errors import RowsError, TimelineError
from expsql.models import Experiment
from expsql.stats import evaluate
from expsql.stats.sequential import ep_stats_level, obrien_fleming_level
from expsql.stats.timeline import TIMELINE_COLUMNS, row_days, rows_as_of
from tests.stats.frames import experiment, metric
from tests.stats.timeline_frames import (
    DAYS,
    FIRST,
    QUIET_DAY,
    WINDOW,
    metric_rows_as_of,
    timeline_rows,
    units,
)


def clicks_experiment(**fields: Any) -> Experiment:
    return experiment([metric(1, "count(user.unit.click)")], **{**WINDOW, "timeline": "daily", **fields})


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return units()


def test_a_variant_without_activity_on_a_day_carries_its_rows_over(frame: pd.DataFrame) -> None:
    rows = timeline_rows(frame)
    days = row_days(rows)
    assert not ((rows["exp_variant_id"] == "b") & (days == QUIET_DAY)).any()
    as_of = rows_as_of(rows, days, QUIET_DAY)
    expected = metric_rows_as_of(frame, QUIET_DAY)
    pd.testing.assert_frame_equal(
        as_of.sort_values(["exp_variant_id", "metric_id"]).reset_index(drop=True),
        expected.sort_values(["exp_variant_id", "metric_id"]).reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.parametrize(
    ("sequential", "inference"),
    [
        ("obrien-fleming", "frequentist"),
        ("ep-stats", "frequentist"),
        ("none", "frequentist"),
        ("always-valid", "frequentist"),
        (None, "bayesian"),
    ],
)
def test_each_day_is_the_single_look_of_that_day(
    frame: pd.DataFrame, sequential: Any, inference: Any
) -> None:
    chosen = clicks_experiment(inference=inference)
    timeline = evaluate(chosen, timeline_rows(frame), sequential=sequential).timeline
    assert timeline is not None and list(timeline.columns) == list(TIMELINE_COLUMNS)
    for look in range(1, DAYS + 1):
        day = FIRST + dt.timedelta(days=look - 1)
        single = chosen.model_copy(update={"timeline": None, "date_for": day})
        expected = evaluate(single, metric_rows_as_of(frame, day), sequential=sequential).metrics
        got = timeline[timeline["day"] == day].reset_index(drop=True)
        assert got["chance_to_win"].isna().all() == (inference == "frequentist")
        assert (got["look"] == look).all()
        for column in TIMELINE_COLUMNS[2:]:
            pd.testing.assert_series_equal(
                got[column], expected[column], check_names=False, check_dtype=False
            )
        level = {"obrien-fleming": obrien_fleming_level, "ep-stats": ep_stats_level}.get(sequential)
        wanted = 0.95 if level is None else level(look, DAYS, 0.95)
        assert math.isclose(got["confidence_level"].iloc[0], wanted, rel_tol=1e-12)


def test_the_evaluation_is_the_last_day(frame: pd.DataFrame) -> None:
    chosen = clicks_experiment()
    evaluation = evaluate(chosen, timeline_rows(frame))
    last = FIRST + dt.timedelta(days=DAYS - 1)
    single = evaluate(chosen.model_copy(update={"timeline": None}), metric_rows_as_of(frame, last))
    pd.testing.assert_frame_equal(evaluation.metrics, single.metrics)
    assert evaluation.timeline is not None
    final = evaluation.timeline[evaluation.timeline["day"] == last].reset_index(drop=True)
    pd.testing.assert_series_equal(final["p_value"], single.metrics["p_value"], check_names=False)


def test_days_before_any_unit_have_no_look(frame: pd.DataFrame) -> None:
    later = frame[frame["day"] >= FIRST + dt.timedelta(days=1)]
    later = later.assign(entered=later["entered"] | (later["day"] == FIRST + dt.timedelta(days=1)))
    timeline = evaluate(clicks_experiment(), timeline_rows(later)).timeline
    assert timeline is not None and timeline["day"].min() == FIRST + dt.timedelta(days=1)
    assert timeline["look"].min() == 2


def test_json_carries_the_timeline_with_iso_days(frame: pd.DataFrame) -> None:
    body = evaluate(clicks_experiment(), timeline_rows(frame)).to_dict()
    first = body["timeline"][0]
    assert first["day"] == FIRST.isoformat() and first["look"] == 1
    assert set(first) == set(TIMELINE_COLUMNS)
    without = evaluate(clicks_experiment(timeline=None), metric_rows_as_of(frame, FIRST)).to_dict()
    assert "timeline" not in without


def test_rows_without_a_day_are_refused_for_a_timeline(frame: pd.DataFrame) -> None:
    with pytest.raises(RowsError, match="metric rows with a day column"):
        evaluate(clicks_experiment(), metric_rows_as_of(frame, FIRST))


def test_a_timeline_without_a_date_window_is_refused(frame: pd.DataFrame) -> None:
    undated = experiment([metric(1, "count(user.unit.click)")], timeline="daily")
    with pytest.raises(TimelineError, match="set date_from and date_to"):
        evaluate(undated, timeline_rows(frame))


def test_a_day_that_is_no_date_is_a_rows_error(frame: pd.DataFrame) -> None:
    rows = timeline_rows(frame).astype({"day": object})
    rows.loc[0, "day"] = "yesterday"
    with pytest.raises(RowsError, match="no date"):
        evaluate(clicks_experiment(), rows)


def segmented_timeline_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Each platform's timeline rows (its units' own), with the platform: a breakdown's rows."""
    platform = frame["unit"].str[1:].astype(int).map(lambda unit: "web" if unit % 3 else "ios")
    parts = [timeline_rows(frame[platform == name]).assign(platform=name) for name in ("web", "ios")]
    return pd.concat(parts, ignore_index=True)


def test_each_segments_day_is_the_single_look_of_its_units_that_day(frame: pd.DataFrame) -> None:
    chosen = clicks_experiment(breakdown=["platform"])
    evaluation = evaluate(chosen, segmented_timeline_rows(frame))
    assert evaluation.breakdowns is not None
    timeline = evaluation.breakdowns.timeline
    assert timeline is not None and list(timeline.columns) == ["dimension", "segment", *TIMELINE_COLUMNS]
    platform = frame["unit"].str[1:].astype(int).map(lambda unit: "web" if unit % 3 else "ios")
    for segment in ("web", "ios"):
        own = frame[platform == segment]
        for look in range(1, DAYS + 1):
            day = FIRST + dt.timedelta(days=look - 1)
            single = chosen.model_copy(update={"timeline": None, "breakdown": [], "date_for": day})
            expected = evaluate(single, metric_rows_as_of(own, day)).metrics
            got = timeline[(timeline["segment"] == segment) & (timeline["day"] == day)].reset_index(drop=True)
            assert (got["look"] == look).all() and (got["dimension"] == "platform").all()
            for column in TIMELINE_COLUMNS[2:]:
                pd.testing.assert_series_equal(
                    got[column], expected[column], check_names=False, check_dtype=False
                )


def test_with_a_breakdown_the_overall_timeline_is_the_segments_summed(frame: pd.DataFrame) -> None:
    segmented = evaluate(clicks_experiment(breakdown=["platform"]), segmented_timeline_rows(frame))
    plain = evaluate(clicks_experiment(), timeline_rows(frame))
    assert segmented.timeline is not None and plain.timeline is not None
    pd.testing.assert_frame_equal(segmented.timeline, plain.timeline)
    pd.testing.assert_frame_equal(segmented.metrics, plain.metrics)
    assert segmented.breakdowns is not None
    last = segmented.breakdowns.timeline
    assert last is not None
    final = last[last["day"] == last["day"].max()].reset_index(drop=True)
    pd.testing.assert_series_equal(
        final["p_value"], segmented.breakdowns.metrics["p_value"], check_names=False
    )
    assert "timeline" in segmented.to_dict()["breakdowns"]
