"""Validation of scenario conditions (``engine.sampling.conditions.parse_conditions``).

Every invalid scenario is a ``SimioError`` with a stable code, HTTP 400, and a detail that
names the offending column (and level, where there is one). The schema is built by hand so
each rule is tested on exactly the column kind it concerns.
"""

import math

import pytest

from engine.errors import CATALOGUE, SimioError
from engine.sampling.conditions import SCHEMA_HINT, Scenario, parse_conditions, share_vector
from engine.schema import Column, Schema


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema([
        Column("age", "integer", "Age", min=18.0, max=65.0, is_integer=True),
        Column("segment", "factor", "Segment", levels=["Mainstream", "Premium", "Value"]),
        Column("income", "double", "Income", min=0.0, max=1000.0),
        Column("channel", "factor", "Channel", levels=["Club", "Online", "Retail"]),
        Column("notes", "character", "Notes", levels=["a", "b"], conditioning_excluded=True),
        Column("score", "numeric", "Score", min=-1.5, max=2.5, conditioning_excluded=True),
    ])


def _error(schema, conditions) -> SimioError:
    with pytest.raises(SimioError) as info:
        parse_conditions(schema, conditions)
    err = info.value
    assert err.code in CATALOGUE
    assert err.status == 400
    assert isinstance(err, ValueError)
    assert str(err).startswith(err.code + ": ")
    return err


# --- the happy path ------------------------------------------------------------------------

def test_no_conditions_is_an_empty_scenario(schema):
    for conditions in (None, {}, {"categorical": {}, "numeric": {}},
                       {"categorical": None, "numeric": None}):
        scenario = parse_conditions(schema, conditions)
        assert scenario.is_empty
        assert scenario.to_dict() == {"categorical": {}, "numeric": {}}


def test_valid_scenario_is_normalised_in_schema_order(schema):
    conditions = {
        "categorical": {"channel": {"Online": 0.7, "Retail": 0.2, "Club": 0.1},
                        "segment": {"Premium": 0.55, "Mainstream": 0.35, "Value": 0.1}},
        "numeric": {"income": {"min": 10, "max": 20.5}, "age": {"min": 25, "max": 44}},
    }
    scenario = parse_conditions(schema, conditions)
    assert list(scenario.categorical) == ["segment", "channel"]      # schema order
    assert list(scenario.numeric) == ["age", "income"]
    assert scenario.categorical["segment"] == {"Premium": 0.55, "Mainstream": 0.35,
                                               "Value": 0.1}
    assert scenario.numeric == {"age": (25.0, 44.0), "income": (10.0, 20.5)}
    assert all(type(v) is float for v in scenario.categorical["segment"].values())
    assert scenario.to_dict()["numeric"]["age"] == {"min": 25.0, "max": 44.0}
    assert not scenario.is_empty


def test_shares_may_overshoot_one_by_float_noise_and_may_sum_below_one(schema):
    # 0.1 + 0.2 + 0.7 == 1.0000000000000002 in floating point
    parse_conditions(schema, {"categorical": {"channel": {"Club": 0.1, "Retail": 0.2,
                                                          "Online": 0.7}}})
    scenario = parse_conditions(schema, {"categorical": {"segment": {"Premium": 0.3}}})
    assert scenario.categorical["segment"] == {"Premium": 0.3}
    # integers and zero shares are numbers too
    scenario = parse_conditions(schema, {"categorical": {"segment": {"Premium": 1,
                                                                     "Value": 0}}})
    assert scenario.categorical["segment"] == {"Premium": 1.0, "Value": 0.0}


def test_share_vector_marks_unlisted_states_nan():
    out = share_vector(["a", "b", "c"], 4, {"b": 0.25})
    assert math.isnan(out[0]) and out[1] == 0.25 and math.isnan(out[2])
    assert math.isnan(out[3])                       # the missing state is never listed


# --- columns -----------------------------------------------------------------------------

@pytest.mark.parametrize("part, condition", [
    ("categorical", {"Premium": 0.5}),
    ("numeric", {"min": 1, "max": 2}),
])
def test_unknown_column(schema, part, condition):
    err = _error(schema, {part: {"purchase_intent": condition}})
    assert err.code == "simio_unknown_condition_column"
    assert "'purchase_intent'" in err.detail
    assert f"conditions.{part}" in err.detail
    assert SCHEMA_HINT in err.detail                       # points to the schema
    assert err.context["column"] == "purchase_intent"


def test_unknown_column_detail_matches_the_contract_example(schema):
    """The contract's 400 example detail, up to our added CLI pointer."""
    err = _error(schema, {"numeric": {"purchase_intent": {"min": 70, "max": 100}}})
    assert err.detail.startswith("Condition column 'purchase_intent' in conditions.numeric is "
                                 "not in the cleaned schema. Call GET /v1/datasets/"
                                 "{dataset_id}/schema")
    assert err.detail.endswith("and use the returned column names and levels.")


def test_column_names_are_case_sensitive(schema):
    assert _error(schema, {"categorical": {"Segment": {"Premium": 1}}}).code == \
        "simio_unknown_condition_column"


def test_unknown_level(schema):
    err = _error(schema, {"categorical": {"segment": {"Premium": 0.5, "Luxury": 0.2}}})
    assert err.code == "simio_unknown_condition_level"
    assert "'Luxury'" in err.detail and "'segment'" in err.detail
    assert "['Mainstream', 'Premium', 'Value']" in err.detail    # lists the real levels
    assert SCHEMA_HINT in err.detail
    assert err.context == {"column": "segment", "level": "Luxury"}


def test_levels_are_case_sensitive(schema):
    err = _error(schema, {"categorical": {"segment": {"premium": 0.5}}})
    assert err.code == "simio_unknown_condition_level"


@pytest.mark.parametrize("part, name, condition", [
    ("categorical", "notes", {"a": 0.5}),
    ("numeric", "score", {"min": 0, "max": 1}),
])
def test_conditioning_excluded_column(schema, part, name, condition):
    err = _error(schema, {part: {name: condition}})
    assert err.code == "simio_condition_column_excluded"
    assert f"'{name}'" in err.detail and "conditioning_excluded" in err.detail
    assert err.context["column"] == name


def test_categorical_condition_on_a_numeric_column(schema):
    err = _error(schema, {"categorical": {"age": {"30": 0.5}}})
    assert err.code == "simio_condition_type_mismatch"
    assert "'age'" in err.detail and "conditions.numeric" in err.detail
    assert "'integer'" in err.detail                     # the schema type
    assert err.context["column"] == "age"


def test_numeric_condition_on_a_categorical_column(schema):
    err = _error(schema, {"numeric": {"segment": {"min": 0, "max": 1}}})
    assert err.code == "simio_condition_type_mismatch"
    assert "'segment'" in err.detail and "conditions.categorical" in err.detail
    assert err.context["column"] == "segment"


# --- shares ------------------------------------------------------------------------------

@pytest.mark.parametrize("share", [-0.1, -1e-12, "0.5", None, True, False, float("nan"),
                                   float("inf"), float("-inf"), [0.5], {"v": 0.5}])
def test_invalid_share(schema, share):
    err = _error(schema, {"categorical": {"segment": {"Premium": share}}})
    assert err.code == "simio_invalid_share"
    assert "segment" in err.detail and "'Premium'" in err.detail
    assert err.context == {"column": "segment", "level": "Premium"}


@pytest.mark.parametrize("levels", [{}, None, [], "Premium", 0.5])
def test_column_needs_a_level_map(schema, levels):
    err = _error(schema, {"categorical": {"segment": levels}})
    assert err.code == "simio_invalid_share"
    assert "conditions.categorical.segment" in err.detail


def test_shares_summing_above_one(schema):
    err = _error(schema, {"categorical": {"segment": {"Premium": 0.6, "Value": 0.5}}})
    assert err.code == "simio_invalid_share"
    assert "'segment'" in err.detail and "sum to 1.1" in err.detail
    assert "percentages" not in err.detail
    assert err.context == {"column": "segment"}


def test_shares_given_as_percentages_get_a_hint(schema):
    err = _error(schema, {"categorical": {"segment": {"Premium": 55, "Mainstream": 35,
                                                      "Value": 10}}})
    assert err.code == "simio_invalid_share"
    assert "sum to 100" in err.detail
    assert "percentages" in err.detail and "0.55" in err.detail


def test_a_single_share_above_one(schema):
    err = _error(schema, {"categorical": {"segment": {"Premium": 1.5}}})
    assert err.code == "simio_invalid_share" and "percentages" in err.detail


def test_every_level_zero_is_invalid_but_some_zero_is_fine(schema):
    err = _error(schema, {"categorical": {"segment": {"Premium": 0, "Mainstream": 0.0,
                                                      "Value": 0}}})
    assert err.code == "simio_invalid_share" and "'segment'" in err.detail
    parse_conditions(schema, {"categorical": {"segment": {"Premium": 0, "Value": 0}}})


# --- ranges ------------------------------------------------------------------------------

@pytest.mark.parametrize("bounds", [{"min": 20}, {"max": 30}, {}, [20, 30], None, 25,
                                    {"low": 20, "high": 30}])
def test_range_needs_min_and_max(schema, bounds):
    err = _error(schema, {"numeric": {"age": bounds}})
    assert err.code == "simio_invalid_range"
    assert "conditions.numeric.age" in err.detail and "'min' and 'max'" in err.detail
    assert '"min": 18' in err.detail and '"max": 65' in err.detail   # schema range example
    assert err.context == {"column": "age"}


@pytest.mark.parametrize("label, value", [
    ("min", float("nan")), ("max", float("inf")), ("min", float("-inf")), ("max", None),
    ("min", "20"), ("max", True), ("min", [20]),
])
def test_range_bound_must_be_a_finite_number(schema, label, value):
    bounds = {"min": 20, "max": 30}
    bounds[label] = value
    err = _error(schema, {"numeric": {"income": bounds}})
    assert err.code == "simio_invalid_range"
    assert f"conditions.numeric.income.{label}" in err.detail and "finite" in err.detail
    assert err.context == {"column": "income"}


def test_min_greater_than_max(schema):
    err = _error(schema, {"numeric": {"income": {"min": 30, "max": 20}}})
    assert err.code == "simio_invalid_range"
    assert "income" in err.detail and "min 30 greater than max 20" in err.detail


def test_bounds_outside_the_schema_range_are_clamped(schema):
    scenario = parse_conditions(schema, {"numeric": {
        "age": {"min": 0, "max": 30}, "income": {"min": 900.5, "max": 1e9}}})
    assert scenario.numeric == {"age": (18.0, 30.0), "income": (900.5, 1000.0)}
    scenario = parse_conditions(schema, {"numeric": {"age": {"min": -1e6, "max": 1e6}}})
    assert scenario.numeric["age"] == (18.0, 65.0)
    # a degenerate range at a schema bound is still a range
    scenario = parse_conditions(schema, {"numeric": {"age": {"min": 65, "max": 90}}})
    assert scenario.numeric["age"] == (65.0, 65.0)


@pytest.mark.parametrize("bounds", [{"min": 66, "max": 90}, {"min": -10, "max": 17.5},
                                    {"min": 1000.1, "max": 2000}])
def test_range_entirely_outside_the_schema_range(schema, bounds):
    name = "income" if bounds["min"] > 100 else "age"
    err = _error(schema, {"numeric": {name: bounds}})
    assert err.code == "simio_infeasible_scenario"
    assert f"'{name}'" in err.detail and "outside its schema range" in err.detail
    assert err.context == {"column": name}


def test_integer_range_without_a_whole_number(schema):
    err = _error(schema, {"numeric": {"age": {"min": 30.2, "max": 30.8}}})
    assert err.code == "simio_infeasible_scenario"
    assert "'age'" in err.detail and "whole number" in err.detail
    # a fractional range on a double column is fine
    assert parse_conditions(schema, {"numeric": {"income": {"min": 30.2, "max": 30.8}}}
                            ).numeric["income"] == (30.2, 30.8)


# --- the conditions object itself ----------------------------------------------------------

@pytest.mark.parametrize("conditions", [[], ["categorical"], "segment=Premium", 1, True])
def test_conditions_must_be_an_object(schema, conditions):
    err = _error(schema, conditions)
    assert err.code == "simio_invalid_field"
    assert "conditions must be a JSON object" in err.detail


def test_unknown_top_level_member(schema):
    err = _error(schema, {"categorical": {}, "ranges": {"age": {"min": 1, "max": 2}}})
    assert err.code == "simio_invalid_field"
    assert "'ranges'" in err.detail and "'categorical' and 'numeric'" in err.detail


@pytest.mark.parametrize("part", ["categorical", "numeric"])
def test_parts_must_be_objects(schema, part):
    err = _error(schema, {part: [{"segment": {"Premium": 1}}]})
    assert err.code == "simio_invalid_field"
    assert f"conditions.{part} must be an object" in err.detail


def test_first_problem_in_schema_order_is_reported(schema):
    """Columns are checked in schema order, categorical before numeric."""
    err = _error(schema, {"categorical": {"channel": {"Nope": 0.1},
                                          "segment": {"Premium": -1}}})
    assert err.code == "simio_invalid_share" and "segment" in err.detail
    err = _error(schema, {"categorical": {"zzz": {"a": 1}}, "numeric": {"age": {"min": 1}}})
    assert err.code == "simio_unknown_condition_column"


def test_scenario_dataclass_round_trip():
    scenario = Scenario(categorical={"segment": {"Premium": 0.5}},
                        numeric={"age": (18.0, 30.0)})
    assert scenario.to_dict() == {"categorical": {"segment": {"Premium": 0.5}},
                                  "numeric": {"age": {"min": 18.0, "max": 30.0}}}
