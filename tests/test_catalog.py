"""The metric catalog: entries validated as metrics and checks, names resolved with overrides,
ids, and every error a name or an entry can cause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from expsql.catalog import (
    Catalog,
    CatalogError,
    catalog_from_mapping,
    load_catalog,
    metric_goals,
)
from expsql.errors import ExperimentError, ExpressionError
from expsql.models import Check, Experiment, Metric, load_experiment, validate_experiment
from expsql.references import NoCatalogError, UnknownNameError

EXPOSURES = "count(user.global.exposure)"
CATALOG: dict[str, Any] = {
    "metrics": {
        "conversion_rate": {
            "id": 1,
            "name": "Conversion rate",
            "description": "Share of exposed users who bought.",
            "owner": "growth",
            "nominator": "unique(user.unit.conversion)",
            "denominator": EXPOSURES,
            "minimum_effect": 0.05,
        },
        "revenue": {"nominator": "value(user.unit.conversion)", "denominator": EXPOSURES, "cuped": False},
        "refund_rate": {"nominator": "count(user.unit.refund)", "denominator": "count(user.unit.conversion)"},
    },
    "checks": {"srm": {"name": "Sample ratio mismatch", "denominator": EXPOSURES}},
}


@pytest.fixture
def catalog() -> Catalog:
    return catalog_from_mapping(CATALOG, origin="metrics.yaml")


def experiment(**changes: Any) -> dict[str, Any]:
    return {"id": "checkout", "control_variant": "a", "unit_type": "user"} | changes


def write(directory: Path, data: Any, name: str = "metrics.yaml") -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def test_an_entry_is_its_metric_with_the_name_as_id_and_display_name_by_default(catalog: Catalog) -> None:
    revenue = catalog.metrics["revenue"]
    assert revenue.metric == Metric(
        id="revenue",
        name="revenue",
        nominator="value(user.unit.conversion)",
        denominator=EXPOSURES,
        cuped=False,
    )
    assert revenue.defaults() == {"cuped": False}
    assert catalog.metrics["conversion_rate"].id == 1
    assert catalog.metrics["conversion_rate"].owner == "growth"
    assert catalog.checks["srm"].check == Check(id="srm", name="Sample ratio mismatch", denominator=EXPOSURES)


def test_names_resolve_with_overrides_beside_inline_metrics(catalog: Catalog) -> None:
    inline = {"id": 9, "name": "Clicks", "nominator": "count(user.unit.click)", "denominator": EXPOSURES}
    data = experiment(
        metrics=["conversion_rate", {"metric": "revenue", "minimum_effect": 0.02, "name": "Revenue"}, inline],
        checks=["srm"],
    )
    resolved = validate_experiment(data, catalog=catalog)
    conversion, revenue, clicks = resolved.metrics
    assert conversion == catalog.metrics["conversion_rate"].metric
    assert (revenue.id, revenue.name, revenue.minimum_effect, revenue.cuped) == (
        "revenue",
        "Revenue",
        0.02,
        False,
    )
    assert clicks == Metric(**inline)
    assert resolved.checks == [catalog.checks["srm"].check]


def test_a_catalog_metric_used_twice_needs_an_id_of_its_own(catalog: Catalog) -> None:
    twice = experiment(metrics=["revenue", {"metric": "revenue", "conversion_window_hours": 24}])
    with pytest.raises(ExperimentError, match="duplicate metric ids: revenue"):
        validate_experiment(twice, catalog=catalog)
    own_id = experiment(
        metrics=["revenue", {"metric": "revenue", "id": "revenue_24h", "conversion_window_hours": 24}]
    )
    assert [m.id for m in validate_experiment(own_id, catalog=catalog).metrics] == ["revenue", "revenue_24h"]


def test_an_unknown_name_names_the_closest_catalog_names(catalog: Catalog) -> None:
    data = experiment(metrics=["conversion_rate", "conversion_rte"])
    with pytest.raises(UnknownNameError) as raised:
        validate_experiment(data, origin="exp.yaml", catalog=catalog)
    assert str(raised.value) == (
        "exp.yaml: metrics.1: no metric 'conversion_rte' in the catalog metrics.yaml "
        "(did you mean 'conversion_rate'?)"
    )
    assert raised.value.closest == ["conversion_rate"] and raised.value.name == "conversion_rte"
    assert isinstance(raised.value, ExperimentError) and isinstance(raised.value, KeyError)


def test_an_unknown_name_like_none_lists_the_catalog(catalog: Catalog) -> None:
    with pytest.raises(UnknownNameError, match=r"\(its checks are srm\)"):
        validate_experiment(experiment(checks=["latency"]), catalog=catalog)


def test_an_override_may_not_change_what_the_name_measures(catalog: Catalog) -> None:
    changed = experiment(metrics=[{"metric": "revenue", "nominator": "value(user.unit.refund)"}])
    with pytest.raises(ExperimentError, match="catalog metric 'revenue' cannot change its nominator"):
        validate_experiment(changed, catalog=catalog)
    retyped = experiment(checks=[{"check": "srm", "type": "SumRatio"}])
    with pytest.raises(ExperimentError, match="catalog check 'srm' cannot change its type"):
        validate_experiment(retyped, catalog=catalog)


def test_an_unknown_override_key_says_the_closest_key(catalog: Catalog) -> None:
    with pytest.raises(ExperimentError, match=r"unknown metric reference key 'minimum_efect' \(did you mean"):
        validate_experiment(
            experiment(metrics=[{"metric": "revenue", "minimum_efect": 0.1}]), catalog=catalog
        )


def test_a_bad_override_value_fails_as_an_inline_metric_would(catalog: Catalog) -> None:
    with pytest.raises(ExperimentError, match=r"metrics\.0\.minimum_effect: Input should be greater than 0"):
        validate_experiment(
            experiment(metrics=[{"metric": "revenue", "minimum_effect": -1}]), catalog=catalog
        )


def test_every_metric_field_is_a_catalog_default_and_an_override_but_the_expressions() -> None:
    with pytest.raises(CatalogError) as entry_keys:
        catalog_from_mapping({"metrics": {"m": {"zzz": 1}}})
    for field in [*Metric.model_fields, "description", "owner"]:
        assert field in str(entry_keys.value).rsplit("keys are", 1)[1]
    catalog = catalog_from_mapping(CATALOG)
    with pytest.raises(ExperimentError) as override_keys:
        validate_experiment(experiment(metrics=[{"metric": "revenue", "zzz": 1}]), catalog=catalog)
    listed = str(override_keys.value).rsplit("keys are ", 1)[1].split(", ")
    assert set(listed) == {"metric", *Metric.model_fields} - {"nominator", "denominator"}


def test_names_without_a_catalog_say_how_to_give_one() -> None:
    data = experiment(metrics=["conversion_rate", {"metric": "revenue"}])
    with pytest.raises(NoCatalogError) as raised:
        validate_experiment(data, origin="exp.yaml")
    message = str(raised.value)
    assert message.startswith("exp.yaml: metrics.0 names the catalog metric 'conversion_rate' (and 1 more)")
    assert "--metrics" in message and "[catalog] table of expsql.toml" in message
    with pytest.raises(ValueError, match="names the catalog metric 'conversion_rate'"):
        Experiment.model_validate(data)


def test_load_experiment_resolves_names_with_the_catalog_given(tmp_path: Path) -> None:
    path = write(tmp_path, experiment(metrics=["conversion_rate"]), "experiment.yaml")
    catalog = load_catalog(write(tmp_path, CATALOG))
    assert load_experiment(path, catalog=catalog).metrics[0].name == "Conversion rate"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"metrics": {"m": {"nominator": "count(user.unit.a)"}}}, r"metrics\.m: denominator: Field required"),
        ({"metrics": {"m": {"minimum_efect": 1}}}, r"metrics\.m: unknown catalog metric key 'minimum_efect'"),
        ({"metric": {}}, r"unknown catalog key 'metric' \(did you mean 'metrics'\?\)"),
        ({"metrics": {"my metric": {}}}, r"'my metric' is not a catalog name"),
        ({"metrics": ["conversion_rate"]}, r"metrics must map names to metrics, not be a list"),
        ({"metrics": {"m": "count(user.unit.a)"}}, r"metrics\.m: expected the metric's fields"),
        ({"checks": {"c": {"owner": 7, "denominator": EXPOSURES}}}, r"checks\.c: owner must be text"),
    ],
)
def test_an_invalid_entry_names_the_file_and_the_entry(entries: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        catalog_from_mapping(entries, origin="metrics.yaml")


def test_two_entries_with_one_id_are_refused() -> None:
    same = {"nominator": "count(user.unit.a)", "denominator": EXPOSURES, "id": 7}
    with pytest.raises(CatalogError, match="metrics 'a' and 'b' have one id, 7"):
        catalog_from_mapping({"metrics": {"a": same, "b": same}})
    without_id = {key: value for key, value in same.items() if key != "id"}
    named_like_the_other = {"a": {**same, "id": "b"}, "b": without_id}
    with pytest.raises(CatalogError, match="have one id, 'b'"):
        catalog_from_mapping({"metrics": named_like_the_other})


def test_a_bad_expression_names_the_file_and_the_entry() -> None:
    broken = {
        "metrics": {
            "revenue": {"id": 3, "nominator": "value(user.unit.conversion) +", "denominator": EXPOSURES}
        }
    }
    with pytest.raises(ExpressionError) as raised:
        catalog_from_mapping(broken, origin="metrics.yaml")
    assert raised.value.context == "metrics.yaml: catalog metric 'revenue' nominator"


def test_a_catalog_file_naming_one_metric_twice_is_refused(tmp_path: Path) -> None:
    text = "metrics:\n  a: {nominator: count(user.unit.a), denominator: count(user.unit.b)}\n"
    text += "  a: {nominator: count(user.unit.c), denominator: count(user.unit.b)}\n"
    with pytest.raises(CatalogError, match="found the key 'a' twice"):
        load_catalog(write(tmp_path, text))
    json_text = '{"metrics": {"a": {"nominator": "count(user.unit.a)", "denominator": "count(user.unit.b)"},'
    json_text += ' "a": {}}}'
    with pytest.raises(CatalogError, match="found the key 'a' twice"):
        load_catalog(write(tmp_path, json_text, "metrics.json"))


def test_a_toml_catalog_reads_as_yaml_does(tmp_path: Path) -> None:
    text = '[metrics.revenue]\nnominator = "value(user.unit.conversion)"\n'
    text += 'denominator = "count(user.global.exposure)"\n'
    catalog = load_catalog(write(tmp_path, text, "metrics.toml"))
    assert catalog.metrics["revenue"].metric == catalog_from_mapping(CATALOG).metrics[
        "revenue"
    ].metric.model_copy(update={"cuped": True})


def test_a_missing_catalog_file_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "metrics.yaml")


def test_get_finds_metrics_then_checks_and_names_the_closest(catalog: Catalog) -> None:
    assert catalog.get("srm").name == "srm"
    with pytest.raises(UnknownNameError, match=r"did you mean 'revenue'\?"):
        catalog.get("revenu")


def test_metric_goals_are_the_goals_an_entry_reads_in_first_seen_order(catalog: Catalog) -> None:
    goals = metric_goals(catalog.metrics["refund_rate"].metric)
    assert [str(goal) for goal in goals] == ["user.unit.refund", "user.unit.conversion"]
    net = Metric(
        id=1,
        name="net",
        nominator="value(user.unit.conversion(product=p_1)) - value(user.unit.refund)",
        denominator="count(user.global.exposure) + count(user.global.exposure)",
    )
    assert [str(goal) for goal in metric_goals(net)] == [
        "user.unit.conversion(product=p_1)",
        "user.unit.refund",
        "user.global.exposure",
    ]


def test_to_dict_shows_the_entry_with_its_defaults_and_goals(catalog: Catalog) -> None:
    assert catalog.metrics["conversion_rate"].to_dict() == {
        "name": "conversion_rate",
        "kind": "metric",
        "id": 1,
        "display_name": "Conversion rate",
        "description": "Share of exposed users who bought.",
        "owner": "growth",
        "type": None,
        "nominator": "unique(user.unit.conversion)",
        "denominator": EXPOSURES,
        "defaults": {"minimum_effect": 0.05},
        "goals": ["user.unit.conversion", "user.global.exposure"],
    }
    assert (
        catalog.metrics["refund_rate"].expression == "count(user.unit.refund) / count(user.unit.conversion)"
    )


def test_a_field_metrics_gained_later_is_a_catalog_default_and_an_override() -> None:
    # higher_is_better and one_sided came with the readouts, after the catalog: no catalog code names them.
    direction = {"higher_is_better": False, "one_sided": True}
    entry = {"nominator": "count(user.unit.refund)", "denominator": EXPOSURES, **direction}
    catalog = catalog_from_mapping({"metrics": {"refunds": entry}})
    refunds = validate_experiment(experiment(metrics=["refunds"]), catalog=catalog).metrics[0]
    assert (refunds.higher_is_better, refunds.one_sided) == (False, True)
    overridden = experiment(metrics=[{"metric": "refunds", "one_sided": False}])
    assert validate_experiment(overridden, catalog=catalog).metrics[0].one_sided is False
