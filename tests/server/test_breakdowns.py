"""``/evaluate`` with a breakdown: the ep-stats fields stay the overall result, ``breakdowns`` holds
one result per segment; an undeclared dimension and too many segments are 422s naming the fix."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from expsql.config import ServerSettings
from expsql.server import DemoDaoFactory
from expsql.server.app import create_app
from tests.server.test_routes import SMALL


def body(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(SMALL) | changes


def assert_close(got: Any, want: Any) -> None:
    if isinstance(want, dict):
        assert got.keys() == want.keys()
        for key in want:
            assert_close(got[key], want[key])
    elif isinstance(want, list):
        assert len(got) == len(want)
        for left, right in zip(got, want, strict=True):
            assert_close(left, right)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    else:
        assert got == want


def test_breakdowns_are_added_and_the_ep_stats_fields_stay_overall(client: TestClient) -> None:
    overall = client.post("/evaluate", json=body())
    assert overall.status_code == 200
    assert "breakdowns" not in overall.json()
    answer = client.post("/evaluate", json=body(breakdown=["platform"]))
    assert answer.status_code == 200
    result = answer.json()
    for field in ("metrics", "checks", "exposure"):  # the same, up to the order of float sums
        assert_close(result[field], overall.json()[field])
    segments = [entry["segment"] for entry in result["breakdowns"]]
    assert set(segments) == {"web", "ios", "android", "(null)"}
    assert {entry["dimension"] for entry in result["breakdowns"]} == {"platform"}
    total = sum(stat["count"] for entry in result["breakdowns"] for stat in entry["exposure"]["stats"])
    assert total == sum(stat["count"] for stat in result["exposure"]["stats"])
    first = result["breakdowns"][0]
    assert [m["id"] for m in first["metrics"]] == [1, 2]
    assert first["checks"][0]["stats"]


def test_an_undeclared_dimension_is_a_422_with_a_suggestion(client: TestClient) -> None:
    answer = client.post("/evaluate", json=body(breakdown=["platfrom"]))
    assert answer.status_code == 422
    assert "Did you mean 'platform'?" in answer.text


def test_too_many_segments_is_a_422_naming_the_setting(demo_factory: DemoDaoFactory) -> None:
    settings = ServerSettings(max_segments=10)
    with TestClient(create_app(demo_factory, settings=settings)) as limited:
        answer = limited.post("/evaluate", json=body(breakdown=["platform", "product"], breakdown_top=5))
        assert answer.status_code == 422
        assert "up to 12 segments" in answer.text and "[server] max_segments" in answer.text
        assert (
            limited.post("/evaluate", json=body(breakdown=["platform"], breakdown_top=4)).status_code == 200
        )


def test_a_duplicate_dimension_is_a_422(client: TestClient) -> None:
    answer = client.post("/evaluate", json=body(breakdown=["platform", "platform"]))
    assert answer.status_code == 422
    assert "more than once" in answer.text


def test_goal_rows_for_a_metric_that_needs_metric_rows_is_a_422(client: TestClient) -> None:
    capped = body(breakdown=["platform"], rows="goals")
    capped["metrics"][0]["outlier_upper_percentile"] = 1
    answer = client.post("/evaluate", json=capped)
    assert answer.status_code == 422
    assert "Use metric rows" in answer.text
