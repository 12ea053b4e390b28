"""Which properties the Rego reads (dpaguard/engine/rego_props.py): every way a rule names one, and None for any other use."""

from __future__ import annotations


import pytest

from support import POLICIES
from dpaguard.policy import load_policy
from dpaguard.engine.rego_props import props_read


HELPER = '''package lib
import rego.v1

prop_or(r, key, default_value) := value if {
	value := object.get(object.get(r, "props", {}), key, null)
	value != null
}
'''


def _module(body: str) -> dict[str, str]:
    return {"lib.rego": HELPER, "rules.rego": "package rules\nimport rego.v1\nimport data.lib\n\n" + body}


def test_every_form_of_reading_a_property_by_name() -> None:
    body = '''
# a comment naming r.props.inComment and walk(r.props) is not code
d contains r.urn if {
	some r in input.resources
	r.props.dotted.deeper == true
	r.props["bracketed"]
	count(object.get(r.props, "gotten", [])) > 0
	some key in ["listedA", "listedB"]
	r.props[key]
	lib.prop_or(r, "viaHelper", 7) > 1
	msg := "props in a string is text"
}
'''
    assert props_read(_module(body)) == ["bracketed", "dotted", "gotten", "listedA", "listedB", "viaHelper"]


@pytest.mark.parametrize("use", [
    "x := r.props",  # held whole
    "walk(r.props, [p, v])",  # walked
    "some k, v in r.props",  # iterated
    "r.props[input.key]",  # a key from the input
    "some key in input.keys\n\tr.props[key]",  # a variable not bound to literals
    "lib.prop_or(r, input.key, 7)",  # a helper given a key that is not a literal
    'object.get(r.props, concat("", ["a", "b"]), 1)',  # a computed key
])
def test_any_other_use_keeps_every_property(use: str) -> None:
    body = f"d contains r.urn if {{\n\tsome r in input.resources\n\tr.props.known\n\t{use}\n}}\n"
    assert props_read(_module(body)) is None


def test_the_shipped_policies_read_a_known_set_by_name() -> None:
    read = load_policy(POLICIES).data["read_props"]
    assert read is not None, "a rule reads props in a way rego_props does not follow: every property is kept"
    assert {"disableBackup", "backupScheduleRetention", "location", "actualLocation", "lifecycleRules", "tlsEnabled"} <= set(read)
    assert not {"name", "tags", "projectId"} & set(read)


def test_the_props_key_taken_outside_a_helper_keeps_every_property() -> None:
    body = 'd contains r.urn if {\n\tsome r in input.resources\n\tx := object.get(r, "props", {})\n\tx.hidden\n}\n'
    assert props_read(_module(body)) is None
