"""The recorded view: a resource whose state's outputs disagree with its program's inputs is judged as both."""

from __future__ import annotations

from typing import Any, Mapping

from dpaguard.facts import ResourceFacts
from dpaguard.deployment.redact import is_secret

# A resource whose recorded outputs disagree with its declared inputs on what a rule reads is judged
# twice: as declared, and as recorded under this URN (its own URN plus the suffix); findings give
# the decisions of the recorded view back to the resource, saying they rest on the recorded state.
RECORDED_SUFFIX = " [recorded]"
RECORDED_NOTE = "(as recorded in the state's outputs; the program declares otherwise)"


def disagree(raw: Mapping[str, Any]) -> bool:
    """Whether a resource's recorded outputs give another value than its declared inputs to a property both hold."""
    inputs, outputs = mapping_of(raw.get("inputs")), mapping_of(raw.get("outputs"))
    return any(outputs[key] != value for key, value in inputs.items() if key in outputs)


def declared_urn(fact: ResourceFacts) -> str:
    """The URN of the resource a fact describes (a recorded view's is its resource's)."""
    return str(fact.get("recorded_of", fact["urn"]))


def mapping_of(value: Any) -> dict[str, Any]:
    """A resource's inputs or outputs as a map (anything else holds nothing readable)."""
    # A property map that is one secret wrapper as a whole (a corrupt or hostile export) holds nothing readable;
    # merged with the other map it would make that one a single secret too and hide its region.
    return value if isinstance(value, dict) and not is_secret(value) else {}
