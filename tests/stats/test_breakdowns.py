"""Breakdowns in the stats: each segment's result is the single-segment evaluation of its rows
(the oracle), the overall is the evaluation of the query without a breakdown, small segments merge
into ``(other)``, a NULL attribute is ``(null)``, SRM and the correction per segment or across
segments match scipy and statsmodels."""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.multitest import multipletests

from expsql.compiler import compile_sql
from expsql.errors import RowsError
from expsql.models import Experiment
from expsql.source import validate_source
from expsql.stats import evaluate
from expsql.stats.breakdowns import NULL_SEGMENT, OTHER_SEGMENT, segment_labels, summed
from expsql.testing.exposure_events import SOURCE
from expsql.testing.exposure_events import generate_exposures_and_events as generate

EXPOSURES = validate_source(SOURCE)
METRICS = [
    {
        "id": 1,
        "name": "clicks",
        "nominator": "count(user.unit.click)",
        "denominator": "count(user.global.exposure)",
    },
    {
        "id": 2,
        "name": "spend",
        "nominator": "value(user.unit.purchase)",
        "denominator": "count(user.global.exposure)",
    },
]
CHECKS = [{"id": 1, "name": "SRM", "denominator": "count(user.global.exposure)"}]


def experiment(exp_id: str = "exp-1", **fields: Any) -> Experiment:
    base = {"id": exp_id, "control_variant": "a", "unit_type": "user", "metrics": METRICS, "checks": CHECKS}
    return Experiment.model_validate({**base, "breakdown": ["country", "platform"], **fields})


@pytest.fixture(scope="module")
def connection() -> duckdb.DuckDBPyConnection:
    exposures, events = generate(seed=7, units=600)
    connection = duckdb.connect()
    for name, frame in (("exposures", exposures), ("events", events)):
        connection.register("generated", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM generated")
        connection.unregister("generated")
    return connection


def rows_of(connection: duckdb.DuckDBPyConnection, chosen: Experiment, rows: str = "metrics") -> pd.DataFrame:
    return connection.execute(compile_sql(chosen, dialect="duckdb", rows=rows, source=EXPOSURES)).df()


def plain(chosen: Experiment, variants: tuple[str, ...]) -> Experiment:
    return chosen.model_copy(update={"breakdown": [], "variants": list(variants)})


def segment_rows(frame: pd.DataFrame, dimension: str, segments: list[str], dims: list[str]) -> pd.DataFrame:
    return summed(frame[segment_labels(frame[dimension]).isin(segments).to_numpy()], dims)


@pytest.mark.parametrize("rows", ["metrics", "goals", "units"])
def test_each_segment_is_the_evaluation_of_its_own_rows(connection: Any, rows: str) -> None:
    chosen = experiment()
    frame = rows_of(connection, chosen, rows)
    result = evaluate(chosen, frame)
    assert result.breakdowns is not None
    breakdown = result.breakdowns.metrics
    for dimension in chosen.breakdown:
        segments = result.breakdowns.segments(dimension)
        assert len(segments) >= 3
        for segment in segments:
            own = segment_rows(frame, dimension, [segment], list(chosen.breakdown))
            expected = evaluate(plain(chosen, result.variants), own).metrics
            got = breakdown[(breakdown["dimension"] == dimension) & (breakdown["segment"] == segment)]
            pd.testing.assert_frame_equal(
                got.drop(columns=["dimension", "segment"]).reset_index(drop=True), expected, check_dtype=False
            )


def test_the_overall_result_is_the_query_without_a_breakdown(connection: Any) -> None:
    chosen = experiment()
    with_segments = evaluate(chosen, rows_of(connection, chosen))
    without = evaluate(plain(chosen, with_segments.variants), rows_of(connection, plain(chosen, ("a", "b"))))
    pd.testing.assert_frame_equal(with_segments.metrics, without.metrics, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(with_segments.checks, without.checks, check_exact=False, rtol=1e-12)


def test_segments_beyond_the_top_merge_into_other(connection: Any) -> None:
    chosen = experiment(breakdown=["country"], breakdown_top=2)
    frame = rows_of(connection, chosen)
    result = evaluate(chosen, frame)
    assert result.breakdowns is not None
    segments = result.breakdowns.segments("country")
    assert len(segments) == 3 and segments[-1] == OTHER_SEGMENT
    labels = segment_labels(frame["country"])
    units = frame[frame["metric_id"] == "@exposure"].groupby(labels)["n"].sum().sort_values(ascending=False)
    assert segments[:2] == list(units.index[:2])
    rest = list(units.index[2:])
    expected = evaluate(plain(chosen, result.variants), segment_rows(frame, "country", rest, ["country"]))
    got = result.breakdowns.metrics
    got = got[got["segment"] == OTHER_SEGMENT].drop(columns=["dimension", "segment"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected.metrics, check_dtype=False)


def test_a_null_attribute_is_its_own_segment(connection: Any) -> None:
    chosen = experiment()
    frame = rows_of(connection, chosen)
    assert frame["country"].isna().any()
    result = evaluate(chosen, frame)
    assert result.breakdowns is not None
    assert NULL_SEGMENT in result.breakdowns.segments("country")


def test_srm_per_segment_is_the_chi_square_of_its_units(connection: Any) -> None:
    chosen = experiment(breakdown=["platform"])
    result = evaluate(chosen, rows_of(connection, chosen))
    assert result.breakdowns is not None
    exposures, checks = result.breakdowns.exposures, result.breakdowns.checks
    for segment in result.breakdowns.segments("platform"):
        units = exposures[exposures["segment"] == segment]["exposures"].to_numpy(dtype=float)
        expected = scipy_stats.chisquare(units).pvalue
        own = checks[(checks["segment"] == segment) & (checks["variable_id"] == "p_value")]
        assert float(own["value"].iloc[0]) == pytest.approx(expected, rel=1e-9)


def test_correction_across_segments_is_holm_over_segments_and_variants(connection: Any) -> None:
    chosen = experiment("exp-2", breakdown=["country"], breakdown_correction="segments")
    frame = rows_of(connection, chosen)
    corrected = evaluate(chosen, frame).breakdowns
    raw = evaluate(chosen, frame, correction="none").breakdowns
    within = evaluate(chosen.model_copy(update={"breakdown_correction": "segment"}), frame).breakdowns
    assert corrected is not None and raw is not None and within is not None
    for metric_id in ("1", "2"):

        def pick(table: pd.DataFrame, metric_id: str = metric_id) -> pd.DataFrame:
            return table[(table["metric_id"].astype(str) == metric_id) & (table["exp_variant_id"] != "a")]

        p_raw = pick(raw.metrics)["p_value"].to_numpy(dtype=float)
        assert p_raw.size >= 6  # segments × two treatment variants
        expected = multipletests(p_raw, method="holm")[1]
        np.testing.assert_allclose(
            pick(corrected.metrics)["p_value"].to_numpy(dtype=float), expected, rtol=1e-12
        )
        # within each segment the family is only its two treatment variants: smaller p-values
        assert (pick(within.metrics)["p_value"].to_numpy(dtype=float) <= expected + 1e-15).all()


def test_rows_without_the_breakdown_columns_are_refused(connection: Any) -> None:
    chosen = experiment()
    frame = rows_of(connection, plain(chosen, ("a", "b")))
    with pytest.raises(RowsError, match="no column 'country', 'platform' of the experiment's breakdown"):
        evaluate(chosen, frame)


def test_json_holds_the_breakdowns_and_nothing_changes_without_one(connection: Any) -> None:
    chosen = experiment(breakdown=["country"])
    body = evaluate(chosen, rows_of(connection, chosen)).to_dict()
    assert body["breakdowns"]["dimensions"] == ["country"]
    assert {row["segment"] for row in body["breakdowns"]["metrics"]} >= {"cz", "de", "us"}
    json.dumps(body, allow_nan=False)
    bare = plain(chosen, ("a", "b"))
    assert "breakdowns" not in evaluate(bare, rows_of(connection, bare)).to_dict()


def test_str_lists_each_segment_treatment_after_the_overall_result(connection: Any) -> None:
    chosen = experiment(breakdown=["platform"], breakdown_correction="segments")
    result = evaluate(chosen, rows_of(connection, chosen))
    overall, by_platform = str(result).split("By platform (correction across segments):")
    assert result.breakdowns is not None
    for segment in result.breakdowns.segments("platform"):
        assert re.search(rf"^clicks +{re.escape(segment)} +b ", by_platform, flags=re.M)
    assert " b " in by_platform and "(control)" not in by_platform
    assert "By " not in overall
