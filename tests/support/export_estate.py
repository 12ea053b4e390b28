"""Deployments built by hand, resource by resource, as a stack export holds them (the Terraform plan export tests)."""

from __future__ import annotations

from typing import Any

from dpaguard.model import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, Deployment

PROJECT = "shop"
STACK = "prod"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:scaleway::default_1_60_0"
PROVIDER_REF = f"{PROVIDER_URN}::3f1c"
SECRET = {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}


def urn(token: str, name: str, parent: str = "") -> str:
    """A resource URN of the test stack (parent type chain optional)."""
    qualified = f"{parent}${token}" if parent else token
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}"


def resource(token: str, name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A custom resource of the default Scaleway provider, as a stack export holds it."""
    return {"urn": urn(token, name), "custom": True, "id": f"id-{name}", "type": token, "inputs": inputs,
            "outputs": dict(inputs), "provider": PROVIDER_REF, "dependencies": [], **extra}


def make_deployment(resources: list[dict[str, Any]], region: str = "fr-par") -> Deployment:
    """A deployment of the test stack with the stack resource, the default provider and `resources`."""
    base = [
        {"urn": f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}", "custom": False,
         "type": "pulumi:pulumi:Stack"},
        {"urn": PROVIDER_URN, "custom": True, "id": "3f1c", "type": "pulumi:providers:scaleway",
         "inputs": {"region": region, "zone": f"{region}-1", "version": "1.60.0"}},
    ]
    return Deployment(stack=STACK, project=PROJECT, source="state", resources=tuple(base + resources),
                      config={"scaleway:region": region, "scaleway:zone": f"{region}-1", "dpaguard:environment": "prod"})
