"""Experiment definitions: ep-stats' request body, parsed expressions, files, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from expsql import Experiment, ExperimentError, ExpressionError, Source, load_experiment, load_source
from expsql.grammar.ast import GoalKey
from expsql.models import AttributionWindow, Filter, expression_error_in, validate_experiment

EP_STATS_BODY = {
    "id": "test-conversion",
    "control_variant": "a",
    "unit_type": "test_unit_type",
    "variants": ["a", "b", "c"],
    "date_from": "2020-01-01",
    "date_to": "2020-01-14",
    "metrics": [
        {
            "id": 1,
            "name": "Click-through Rate",
            "nominator": "count(test_unit_type.unit.click)",
            "denominator": "count(test_unit_type.global.exposure)",
            "minimum_effect": 0.1,
        },
        {
            "id": 2,
            "name": "Revenue per product p_1",
            "nominator": "value(test_unit_type.unit.conversion(product=p_1))",
            "denominator": "count(test_unit_type.global.exposure)",
        },
    ],
    "checks": [
        {"id": 1, "name": "SRM", "denominator": "count(test_unit_type.global.exposure)"},
    ],
    "filters": [],
    "query_parameters": {"is_performance_test": False},
    "null_hypothesis_rate": None,
}


def body(**changes: object) -> dict:
    return {**json.loads(json.dumps(EP_STATS_BODY)), **changes}


def test_ep_stats_request_body_is_a_valid_experiment() -> None:
    experiment = Experiment.model_validate(EP_STATS_BODY)
    assert experiment.confidence_level == 0.95
    assert [m.id for m in experiment.metrics] == [1, 2]
    assert experiment.metrics[1].nominator_expr.dimensions[0].label == "p_1"  # type: ignore[union-attr]


def test_goal_keys_put_exposure_first_and_deduplicate() -> None:
    experiment = Experiment.model_validate(EP_STATS_BODY)
    assert [str(k) for k in experiment.goal_keys()] == [
        "test_unit_type.global.exposure",
        "test_unit_type.unit.click",
        "test_unit_type.unit.conversion(product=p_1)",
    ]
    assert isinstance(experiment.goal_keys()[0], GoalKey)
    assert experiment.dimension_names() == ["product"]


def test_bad_expression_names_metric_and_field() -> None:
    data = body()
    data["metrics"][1]["denominator"] = "count(test_unit_type.global.exposure) foo"
    with pytest.raises(ValidationError) as caught:
        Experiment.model_validate(data)
    error = expression_error_in(caught.value)
    assert isinstance(error, ExpressionError)
    assert str(error).startswith("metric 2 denominator: unexpected text 'foo'")
    with pytest.raises(ExpressionError, match="metric 2 denominator"):
        validate_experiment(data)


def test_check_expression_error_names_the_check() -> None:
    data = body(checks=[{"id": 7, "name": "SRM", "denominator": "count(x.unit)"}])
    with pytest.raises(ExpressionError, match="check 7 denominator"):
        validate_experiment(data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metrics": [EP_STATS_BODY["metrics"][0]] * 2}, "duplicate metric ids: 1"),
        ({"variants": ["b", "c"]}, "control_variant 'a' is not among variants"),
        ({"date_to": "2019-12-31"}, "date_to must not be before date_from"),
        ({"date_from": None, "date_for": "2020-01-02"}, "date_for needs date_from and date_to"),
        (
            {"checks": [{"id": 1, "name": "x", "type": "SumRatio", "denominator": "count(u.unit.a)"}]},
            "needs a nominator",
        ),
        ({"checks": [{"id": 1, "name": "x", "type": "Other", "denominator": "count(u.unit.a)"}]}, "type"),
        ({"metrics": [{"id": 1, "name": "m", "nominator": "5", "denominator": "2"}]}, "references a goal"),
        ({"unit_type": "user-id"}, "unit_type"),
        ({"confidence_level": 1.5}, "confidence_level"),
    ],
)
def test_inconsistent_definitions_are_experiment_errors(changes: dict, message: str) -> None:
    with pytest.raises(ExperimentError, match=message):
        validate_experiment(body(**changes))


def test_filters_of_every_scope_are_valid() -> None:
    filters = [
        {"scope": "goal", "dimension": "product", "value": ["p_1", 2, 2.5, True]},
        {"scope": "goal", "dimension": "price", "value": [1], "goal": "click"},
        {"scope": "exposure", "dimension": "platform", "value": ["web"]},
        {"scope": "trigger", "goal": "view"},
        {"scope": "trigger", "goal": "view", "dimension": "product", "value": ["p_1"]},
    ]
    experiment = validate_experiment(body(filters=filters))
    assert experiment.filters == [Filter.model_validate(f) for f in filters]
    assert experiment.filters[0].value == ["p_1", 2, 2.5, True]
    assert [type(v) for v in experiment.filters[0].value or []] == [str, int, float, bool]


def test_null_filters_are_no_filters() -> None:
    assert validate_experiment(body(filters=None)).filters == []
    assert validate_experiment({k: v for k, v in body().items() if k != "filters"}).filters == []


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"scope": "trigger"}, r"filters\.1: a trigger filter needs 'goal'"),
        (
            {"scope": "trigger", "goal": "view", "dimension": "product"},
            r"filters\.1: .*'dimension' and 'value'",
        ),
        ({"scope": "trigger", "goal": "view", "value": ["p_1"]}, r"filters\.1: .*'dimension' and 'value'"),
        ({"scope": "goal", "value": ["p_1"]}, r"filters\.1: a filter of scope 'goal' needs 'dimension'"),
        ({"scope": "exposure", "dimension": "product"}, r"filters\.1: .*scope 'exposure' needs 'value'"),
        ({"scope": "goal", "dimension": "product", "value": []}, r"filters\.1: .*needs 'value', a non-empty"),
        (
            {"scope": "exposure", "dimension": "p", "value": [1], "goal": "view"},
            r"filters\.1: .*takes no 'goal'",
        ),
        (
            {"scope": "goal", "dimension": "pro-duct", "value": [1]},
            r"filters\.1\.dimension: 'pro-duct' is not a",
        ),
        (
            {"scope": "goal", "dimension": 'x" OR 1=1', "value": [1]},
            r"filters\.1\.dimension: .* not a dimension",
        ),
        ({"scope": "trigger", "goal": "view click"}, r"filters\.1\.goal: 'view click' is not a goal name"),
        ({"scope": "trigger", "goal": ""}, r"filters\.1\.goal: '' is not a goal name"),
        ({"scope": "segment", "dimension": "p", "value": [1]}, r"filters\.1\.scope"),
        ({"scope": "goal", "dimension": "p", "value": [None]}, r"filters\.1\.value"),
    ],
)
def test_invalid_filters_name_the_filter_and_the_field(item: dict, message: str) -> None:
    valid = {"scope": "goal", "dimension": "product", "value": ["p_1"]}
    with pytest.raises(ExperimentError, match=message):
        validate_experiment(body(filters=[valid, item]))


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".toml"])
def test_load_experiment_reads_every_format(tmp_path: Path, suffix: str) -> None:
    import yaml

    data = body(date_from="2020-01-01", date_to="2020-01-14")
    for absent_in_toml in ("null_hypothesis_rate", "filters", "query_parameters"):
        data.pop(absent_in_toml)
    path = tmp_path / f"experiment{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(data))
    elif suffix == ".yaml":
        path.write_text(yaml.safe_dump(data))
    else:
        path.write_text(_to_toml(data))
    assert load_experiment(path) == Experiment.model_validate(data)


def _to_toml(data: dict) -> str:
    lines = []
    for key, value in data.items():
        if isinstance(value, list | dict):
            continue
        lines.append(f"{key} = {json.dumps(value)}")
    lines.append(f"variants = {json.dumps(data['variants'])}")
    for table in ("metrics", "checks"):
        for item in data[table]:
            lines.append(f"[[{table}]]")
            lines.extend(f"{k} = {json.dumps(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"


def test_load_experiment_reports_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text("id: [unclosed")
    with pytest.raises(ExperimentError, match="cannot read YAML"):
        load_experiment(path)
    other = tmp_path / "experiment.ini"
    other.write_text("")
    with pytest.raises(ExperimentError, match="unknown file type"):
        load_experiment(other)


def test_source_defaults_are_the_seed_layout_and_load_from_a_file(tmp_path: Path) -> None:
    assert Source().table == "events" and Source().columns.agg_type == "agg_type"
    path = tmp_path / "source.yaml"
    path.write_text(
        "table: proj.analytics.events\ncolumns: {unit_id: user_id, agg_type: null}\n"
        "dimensions: {price: integer}\n"
    )
    source = load_source(path)
    assert source.table_parts == ("proj", "analytics", "events")
    assert source.columns.unit_id == "user_id" and source.columns.agg_type is None
    assert source.dimension_type("price") == "integer" and source.dimension_type("product") == "string"


def test_source_rejects_bad_table_names_and_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="table"):
        Source(table="a..b")
    with pytest.raises(ValidationError):
        Source.model_validate({"columns": {"unit": "x"}})


def _windowed(**fields: object) -> Experiment:
    exposures = "count(user.global.exposure)"
    metrics = [
        {"id": 1, "name": "a", "nominator": "count(user.unit.click)", "denominator": exposures},
        {"id": 2, "name": "b", "nominator": "count(user.unit.view)", "denominator": exposures,
         "conversion_window_hours": 24},
    ]  # fmt: skip
    return Experiment.model_validate(
        {"id": "e", "control_variant": "a", "unit_type": "user", "metrics": metrics, **fields}
    )


def test_a_metric_inherits_the_experiments_attribution_window_field_by_field() -> None:
    experiment = _windowed(conversion_delay_hours=0.5, conversion_window_hours=72)
    first, second = experiment.metrics
    assert experiment.attribution_window(first) == AttributionWindow(1800, 72 * 3600)
    assert experiment.attribution_window(second) == AttributionWindow(1800, 24 * 3600)
    assert experiment.windows_differ() == [second] and experiment.needs_metric_rows()
    assert not _windowed(conversion_window_hours=24).windows_differ()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"conversion_delay_hours": -1}, "greater than or equal to 0"),
        ({"conversion_window_hours": 0}, "greater than 0"),
        ({"conversion_window_hours": 1e-5}, "not a whole number of seconds"),
        ({"multiple_exposures": "last"}, "'exclude' or 'first'"),
        ({"max_multiple_exposures": 2}, "less than or equal to 1"),
    ],
)
def test_bad_attribution_settings_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _windowed(**fields)


def test_incremental_is_off_unless_the_experiment_asks_for_it(tmp_path: Path) -> None:
    assert Experiment.model_validate(EP_STATS_BODY).incremental is False
    path = tmp_path / "experiment.json"
    path.write_text(json.dumps(body(incremental=True)))
    assert load_experiment(path).incremental is True


def test_a_misspelt_incremental_key_names_the_field() -> None:
    with pytest.raises(ExperimentError, match=r"'incremantal' \(did you mean 'incremental'\?\)"):
        validate_experiment(body(incremantal=True))
