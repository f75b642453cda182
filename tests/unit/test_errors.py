"""Domain errors carry no HTTP: the API maps each kind to a status, and `at` names the field."""

import pytest

from service import errors
from service.api.problems import status_named, status_of


def test_each_kind_maps_to_its_status() -> None:
    assert status_of(errors.UnknownToken("x")) == (404, "Unknown token")
    assert status_of(errors.UnknownJob("x"))[0] == 404
    assert status_of(errors.UnknownLabel("x")) == (400, "Bad request")
    assert status_of(errors.NothingToFit("x"))[0] == 400
    assert status_of(errors.TooLarge("x"))[0] == 413
    assert status_named("NothingToFit") == 400 and status_named("UnknownJob") == 404
    assert status_named("internal") == 500 and status_named("at") == 500


def test_at_names_the_field_once_from_the_innermost_caller() -> None:
    with pytest.raises(errors.UnknownLabel) as raised, errors.at("scripts"):
        with errors.at("exclude_scripts"):
            raise errors.UnknownLabel("unknown unicode label 'Klingon'")
    assert raised.value.field == "exclude_scripts"
    with pytest.raises(errors.InvalidInput) as named, errors.at("scripts"):
        raise errors.InvalidInput("x", field="k")
    assert named.value.field == "k"
