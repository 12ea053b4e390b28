"""Redaction of secrets and of sensitive-named plaintext in property trees."""

from __future__ import annotations

from typing import Any
import pytest

from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN
from dpaguard.deployment.redact import is_sensitive_name, redact_properties

SECRET = {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}


@pytest.mark.parametrize(
    "name",
    ["password", "dbPassword", "admin_password", "secretKey", "secret_key", "apiKey", "api-key", "accessKey",
     "privateKey", "token", "authToken", "clientSecret", "kubeconfig", "connectionString", "passphrase", "credentials",
     # issue 15 item 17: names the first rule missed, in camelCase, snake_case and SCREAMING_CASE
     "encryptionKey", "encryption_key", "sshKey", "SSH_KEY", "signingKey", "signing-key", "pwd", "DB_PWD", "pass", "db_pass",
     "jwt", "CI_JOB_JWT", "SENTRY_DSN", "sentryDsn", "SLACK_WEBHOOK_URL", "webhookUrl", "DATABASE_URL", "databaseUrl", "psk"],
)
def test_sensitive_names(name: str) -> None:
    assert is_sensitive_name(name)


@pytest.mark.parametrize("name", ["name", "region", "key", "tags", "keyId", "sshBastion", "enabled", "userName",
                                  # what names or describes a credential is not one
                                  "secretId", "secretName", "passwordLength", "keyName", "sshKeyIds", "SECRET_KEY_ID",
                                  "tokenExpiry", "passThrough", "compass", "url", "publicKey", "webhookName"])
def test_ordinary_names(name: str) -> None:
    assert not is_sensitive_name(name)


def test_secrets_lose_their_value_whatever_form_they_have() -> None:
    properties = {
        "a": {SECRET_SIG_KEY: SECRET_SIG, "plaintext": '"hunter2"'},
        "b": {SECRET_SIG_KEY: SECRET_SIG, "value": "hunter2"},
        "c": {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "AAAAhunter2"},
        "deep": [{"x": {SECRET_SIG_KEY: SECRET_SIG, "plaintext": "1"}}],
    }
    assert redact_properties(properties) == {"a": SECRET, "b": SECRET, "c": SECRET, "deep": [{"x": SECRET}]}


def test_sensitive_plaintext_is_replaced_and_facts_are_kept() -> None:
    properties = {
        "password": "hunter2",
        "passwordWo": "",
        "userData": {"adminPassword": "hunter2", "motd": "hello"},
        "apiKeys": ["k1", UNKNOWN],
        "token": 42,
        "secretEnabled": True,
        "region": "fr-par",
    }
    assert redact_properties(properties) == {
        "password": PLAINTEXT_REDACTED,
        "passwordWo": "",
        "userData": {"adminPassword": PLAINTEXT_REDACTED, "motd": "hello"},
        "apiKeys": [PLAINTEXT_REDACTED, UNKNOWN],
        "token": 42,
        "secretEnabled": True,
        "region": "fr-par",
    }


def test_what_names_a_credential_under_a_credential_is_kept() -> None:
    # A Kubernetes pod spec: the volume `secret` names a Secret, it holds no credential.
    properties = {
        "volumes": [{"name": "tls", "secret": {"secretName": "shop-tls", "defaultMode": 420}}],
        "secret": {"name": "db", "value": "hunter2"},
        "credentials": {"keyId": "SCWXXXXXXXXXXXXXXXXX", "secretKey": "hunter2"},
    }
    assert redact_properties(properties) == {
        "volumes": [{"name": "tls", "secret": {"secretName": "shop-tls", "defaultMode": 420}}],
        "secret": {"name": "db", "value": PLAINTEXT_REDACTED},
        "credentials": {"keyId": "SCWXXXXXXXXXXXXXXXXX", "secretKey": PLAINTEXT_REDACTED},
    }


def test_input_is_not_modified() -> None:
    properties: dict[str, Any] = {"password": "hunter2", "s": {SECRET_SIG_KEY: SECRET_SIG, "plaintext": "x"}}
    redact_properties(properties)
    assert properties["password"] == "hunter2" and properties["s"]["plaintext"] == "x"


def test_a_property_map_that_is_itself_secret() -> None:
    assert redact_properties({SECRET_SIG_KEY: SECRET_SIG, "plaintext": '{"password": "x"}'}) == SECRET
