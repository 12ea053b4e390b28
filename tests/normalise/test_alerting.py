"""The stack's `alerting` fact (DPA-INC-001): one of its own Cockpit alert managers names a contact point and enables alert rules."""

from __future__ import annotations

from typing import Any

import pytest

from dpaguard.model import UNKNOWN
from dpaguard.normalise.stack import ALERT_MANAGER, alerting

CONTACT = [{"email": "oncall@example.org"}]


def _manager(read: bool = False, **props: Any) -> dict[str, Any]:
    return {"type": ALERT_MANAGER, "props": props, **({"read": True} if read else {})}


@pytest.mark.parametrize("resources, expected", [
    ([_manager(contactPoints=CONTACT, preconfiguredAlertIds=["alert-1"])], True),
    ([_manager(contactPoints=CONTACT, enableManagedAlerts=True)], True),  # the legacy managed alerts are rules too
    ([], False),
    ([_manager(preconfiguredAlertIds=["alert-1"], contactPoints=[])], False),
    ([_manager(contactPoints=CONTACT)], False),
    ([_manager(contactPoints=CONTACT, preconfiguredAlertIds=[])], False),
    ([_manager(contactPoints=[{"email": ""}], preconfiguredAlertIds=["a"])], False),  # no address, no contact
    # contact and rules must be on one manager
    ([_manager(contactPoints=CONTACT), _manager(preconfiguredAlertIds=["a"])], False),
    # another stack's manager, read with .get(), alerts nobody of this stack's
    ([_manager(read=True, contactPoints=CONTACT, preconfiguredAlertIds=["a"])], False),
    # unknown until apply: input_types.rego reports it undetermined; it is not a stack that alerts nobody
    ([_manager(contactPoints=UNKNOWN, preconfiguredAlertIds=["a"])], True),
    ([_manager(contactPoints=[{"email": UNKNOWN}], enableManagedAlerts=UNKNOWN)], True),
    ([_manager(contactPoints=CONTACT, preconfiguredAlertIds=UNKNOWN)], True),
], ids=["ids", "managed", "none", "no-contact", "no-rules", "empty-ids", "empty-address", "split", "read",
        "unknown-contacts", "unknown-email", "unknown-ids"])
def test_alerting(resources: list[dict[str, Any]], expected: bool) -> None:
    assert alerting(resources, UNKNOWN) is expected
