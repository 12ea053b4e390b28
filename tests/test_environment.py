"""The one rule that says which environment a stack is (dpaguard/environment.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dpaguard.environment import environment_of
from dpaguard.policy import load_policy
from support import POLICIES


@pytest.fixture(scope="module")
def names() -> Any:
    """The stack-name table of the shipped policies (settings.yaml environment_names)."""
    return load_policy(POLICIES).data["settings"]["environment_names"]


def test_the_override_then_the_config_then_the_name_then_prod(names: Any) -> None:
    assert environment_of("dev", {"dpaguard:environment": "prod"}, names, "staging") == ("staging", "override")
    assert environment_of("acme/feature-x", {"dpaguard:environment": "dev"}, names) == ("dev", "config")
    assert environment_of("production", {}, names) == ("prod", "stack name")
    assert environment_of("acme/estate/Test", {}, names) == ("dev", "stack name")  # the stack's own name, any case
    assert environment_of("feature-x", {}, names) == ("prod", "assumed")


def test_a_config_value_that_names_no_environment_is_not_believed(names: Any) -> None:
    for value in ("production", "", None, 1, ["dev"], "[secret]"):
        assert environment_of("dev", {"dpaguard:environment": value}, names) == ("dev", "stack name")
        assert environment_of("feature-x", {"dpaguard:environment": value}, names) == ("prod", "assumed")


def test_an_override_that_names_no_environment_is_refused(names: Any) -> None:
    with pytest.raises(ValueError, match="not one of prod, staging, dev"):
        environment_of("dev", {}, names, "qa")
