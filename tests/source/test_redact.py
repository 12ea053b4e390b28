"""Redaction of secrets and of sensitive-named plaintext in property trees."""

from __future__ import annotations

from typing import Any
import pytest

from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN
from dpaguard.deployment.redact import holds_no_credential, is_placeholder, is_sensitive_name, redact_config, redact_properties

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


@pytest.mark.parametrize("value", ["${env:SCW_SECRET_KEY}", "${env.DB_PASSWORD}", "${DB_PASSWORD}", " ${env:TOKEN} "])
def test_a_placeholder_naming_an_environment_variable_is_no_credential(value: str) -> None:
    assert is_placeholder(value)
    assert redact_config({"scaleway:secret_key": value}) == {"scaleway:secret_key": value}
    assert redact_properties({"password": value}) == {"password": value}


@pytest.mark.parametrize("value", ["${env:A}hunter2", "hunter2 ${env:A}", "${env:}", "$DB_PASSWORD", "${env:A} ${env:B}", "${env:A-B}"])
def test_a_value_that_is_more_than_a_placeholder_is_taken_as_a_credential(value: str) -> None:
    assert not is_placeholder(value)
    assert redact_config({"scaleway:secret_key": value}) == {"scaleway:secret_key": PLAINTEXT_REDACTED}


def test_a_name_value_pair_value_is_under_the_name_beside_it() -> None:
    env = [
        {"name": "PAPERLESS_API_TOKEN", "value": "4d1f0c9e8b7a"},
        {"name": "PAPERLESS_TIME_ZONE", "value": "Europe/Paris"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"Name": "API_KEY", "Value": "k-123"},
        {"name": "auth.password", "value": "hunter2"},  # a Helm release's `set`
    ]
    assert redact_properties({"spec": {"env": env}}) == {"spec": {"env": [
        {"name": "PAPERLESS_API_TOKEN", "value": PLAINTEXT_REDACTED},
        {"name": "PAPERLESS_TIME_ZONE", "value": "Europe/Paris"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"Name": "API_KEY", "Value": PLAINTEXT_REDACTED},
        {"name": "auth.password", "value": PLAINTEXT_REDACTED},
    ]}}


def test_an_ssh_public_key_under_a_key_name_is_no_credential() -> None:
    public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2x0fakefakefakefakefakefakefakefakefake0 ops@example.org"
    assert holds_no_credential(public) and holds_no_credential("${env:SSH_KEY}")
    assert redact_config({"lab:ssh_key": public}) == {"lab:ssh_key": public}
    # A private key, or anything after a public key's line, is taken as a credential.
    for value in ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
                  public + "\n-----BEGIN OPENSSH PRIVATE KEY-----", "ssh-ed25519 hunter2"):
        assert not holds_no_credential(value)
        assert redact_config({"lab:ssh_key": value}) == {"lab:ssh_key": PLAINTEXT_REDACTED}
