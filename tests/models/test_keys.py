"""Unknown keys: a misspelt key of an experiment, a metric, a check or a filter is an error naming
the closest known key, in a file and in a Python call; every spelling the models accept still works."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from expsql import ExperimentError, load_experiment
from expsql.models import Check, Experiment, Filter, Metric, validate_experiment
from tests.models.test_experiment import EP_STATS_BODY

EXPOSURES = "count(test_unit_type.global.exposure)"
METRIC = {"id": 1, "name": "CTR", "nominator": "count(test_unit_type.unit.click)", "denominator": EXPOSURES}
#: ep-stats' goal-name metric (``SimpleMetric``): bookings per view.
BOOKINGS = {"id": 1, "name": "Bookings", "numerator": "bookings", "denominator": "views"}
CHECK = {"id": 1, "name": "SRM", "denominator": EXPOSURES}
FILTER = {"scope": "exposure", "dimension": "country", "value": ["cz"]}


def experiment(**changes: Any) -> dict[str, Any]:
    """ep-stats' request body with ``changes``, a copy to edit."""
    return copy.deepcopy(EP_STATS_BODY | changes)


#: (where the misspelt key goes, the misspelt key, the key meant, where the message says it is).
MISSPELT = [
    ((), "multple_exposures", "multiple_exposures", "(top level): unknown experiment key"),
    (("metrics", 0), "minimum_efect", "minimum_effect", "metrics.0: unknown metric key"),
    (("metrics", 1), "outlier_upper_percentil", "outlier_upper_percentile", "metrics.1: unknown metric key"),
    (("checks", 0), "confidence_levle", "confidence_level", "checks.0: unknown check key"),
    (("filters", 0), "dimensoin", "dimension", "filters.0: unknown filter key"),
]


@pytest.mark.parametrize(("where", "misspelt", "meant", "located"), MISSPELT)
def test_a_misspelt_key_in_a_file_names_the_key_it_missed(
    tmp_path: Path, where: tuple[Any, ...], misspelt: str, meant: str, located: str
) -> None:
    data = experiment(filters=[FILTER])
    target: Any = data
    for step in where:
        target = target[step]
    target[misspelt] = "first" if misspelt == "multple_exposures" else 0.05
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ExperimentError) as raised:
        load_experiment(path)
    assert f"{path}: {located} {misspelt!r} (did you mean {meant!r}?)" in str(raised.value)


def test_multple_exposures_first_no_longer_runs_as_exclude() -> None:
    with pytest.raises(ExperimentError, match=r"'multple_exposures' \(did you mean 'multiple_exposures'\?\)"):
        validate_experiment(experiment(multple_exposures="first"))


def test_every_unknown_key_of_a_definition_is_named_at_once() -> None:
    data = experiment(multple_exposures="first", confidence_levle=0.9)
    data["metrics"][0]["minimum_efect"] = 0.05
    with pytest.raises(ExperimentError) as raised:
        validate_experiment(data)
    message = str(raised.value)
    assert "unknown experiment keys 'multple_exposures' (did you mean 'multiple_exposures'?), " in message
    assert "'confidence_levle' (did you mean 'confidence_level'?)" in message


def test_a_key_like_no_known_one_is_told_the_known_keys() -> None:
    with pytest.raises(ExperimentError) as raised:
        validate_experiment(experiment(owner="growth-team"))
    message = str(raised.value)
    assert "unknown experiment key 'owner'; the experiment keys are id, control_variant, " in message
    assert "did you mean" not in message


@pytest.mark.parametrize(
    ("model", "fields", "misspelt", "meant"),
    [
        (Experiment, experiment(), "multple_exposures", "multiple_exposures"),
        (Metric, METRIC, "minimum_efect", "minimum_effect"),
        (Check, CHECK, "max_sum_raito", "max_sum_ratio"),
        (Filter, FILTER, "goals", "goal"),
    ],
)  # fmt: skip
def test_a_misspelt_keyword_in_a_python_call_names_the_key_it_missed(
    model: type[BaseModel], fields: dict[str, Any], misspelt: str, meant: str
) -> None:
    model(**fields)  # the fields alone are valid
    with pytest.raises(ValidationError, match=rf"unknown \w+ key '{misspelt}' \(did you mean '{meant}'\?\)"):
        model(**fields, **{misspelt: 1})


def test_the_json_schema_allows_no_other_keys() -> None:
    for model in (Experiment, Metric, Check, Filter):
        assert model.model_json_schema()["additionalProperties"] is False


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param({"metrics": [BOOKINGS]}, id="goal-name metric"),
        pytest.param({"metrics": [BOOKINGS | {"unit_type": "guest"}]}, id="goal-name metric, own unit type"),
        pytest.param({"metrics": [BOOKINGS | {"metric_format": "{:.2%}", "metric_value_multiplier": 1}]},
                     id="ep-stats SimpleMetric display arguments"),
        pytest.param({"checks": [{"id": 1, "name": "SRM", "denominator": "views"}]}, id="goal-name check"),
        pytest.param({"filters": None, "variants": None, "null_hypothesis_rate": None}, id="ep-stats nulls"),
        pytest.param({"breakdown": "platform"}, id="one breakdown as text"),
        pytest.param({"id": 7}, id="an integer id"),
    ],
)  # fmt: skip
def test_every_spelling_the_models_accepted_still_validates(spelling: dict[str, Any]) -> None:
    validate_experiment(experiment(**spelling))


def test_simple_metric_display_arguments_do_not_reach_the_metric() -> None:
    metric = BOOKINGS | {"metric_format": "{:.2%}", "metric_value_multiplier": 1000}
    parsed = validate_experiment(experiment(metrics=[metric])).metrics[0]
    assert parsed.nominator == "value(test_unit_type.global.bookings)"


def test_display_arguments_belong_to_goal_name_metrics_only() -> None:
    with pytest.raises(ExperimentError, match=r"metrics.0: unknown metric key 'metric_format'"):
        validate_experiment(experiment(metrics=[METRIC | {"metric_format": "{:.2%}"}]))
