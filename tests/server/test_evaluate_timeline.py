"""``"timeline": "daily"`` over REST: the added ``timeline`` field, and the 422s before any SQL."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from fastapi.testclient import TestClient

from tests.server.test_routes import SMALL

WINDOW = {"date_from": "2026-11-02", "date_to": "2026-11-08"}


def body(**changes: object) -> dict:
    return copy.deepcopy(SMALL) | WINDOW | changes


def test_a_timeline_is_returned_when_asked_for(client: TestClient) -> None:
    answer = client.post("/evaluate", json=body(timeline="daily"))
    assert answer.status_code == 200
    result = answer.json()
    timeline = result["timeline"]
    days = sorted({point["day"] for point in timeline})
    assert days == [(dt.date(2026, 11, 2) + dt.timedelta(days=k)).isoformat() for k in range(7)]
    assert {point["look"] for point in timeline} == set(range(1, 8))
    assert {(p["metric_id"], p["exp_variant_id"]) for p in timeline} == {
        (m, v) for m in (1, 2) for v in ("a", "b", "c")
    }
    # The last day is the evaluation's result (the ep-stats fields keep their meaning).
    last = [p for p in timeline if p["day"] == days[-1] and p["metric_id"] == 1]
    stats = result["metrics"][0]["stats"]
    assert [p["p_value"] for p in last] == [s["p_value"] for s in stats]
    assert [p["confidence_level"] for p in last] == [s["confidence_level"] for s in stats]
    levels = [next(p["confidence_level"] for p in timeline if p["day"] == day) for day in days]
    assert levels == sorted(levels, reverse=True) and levels[-1] < 1  # looks grow less strict
    assert "NaN" not in answer.text


def test_without_a_timeline_the_answer_has_ep_stats_keys_only(client: TestClient) -> None:
    assert set(client.post("/evaluate", json=body()).json()) == {"id", "metrics", "checks", "exposure"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"date_from": None}, "has no date_from: set date_from and date_to"),
        ({"date_from": "2026-01-01", "date_to": "2026-11-15"}, "spans 319 days"),
        ({"rows": "goals"}, "not goals rows"),
    ],
)
def test_a_timeline_that_cannot_be_built_is_a_422_before_any_sql(
    client: TestClient, changes: dict, message: str
) -> None:
    answer = client.post("/evaluate", json=body(timeline="daily", **changes))
    assert answer.status_code == 422
    assert message in answer.json()["detail"]
