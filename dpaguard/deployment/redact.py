"""Redaction of secrets and sensitive plaintext in property trees, shared by every source.

A secret value (`{SECRET_SIG_KEY: SECRET_SIG, "plaintext"|"value"|"ciphertext": ...}`) keeps its
wrapper but its payload becomes `{"ciphertext": REDACTED}`: downstream sees that a property is
secret, never its value. A plain (not secret-wrapped) string under a property whose name looks
sensitive (SENSITIVE_NAME) becomes PLAINTEXT_REDACTED: the fact that it was stored in plaintext
survives, so a policy can report it, the value does not. A Scaleway or DataPacket credential under any
other name (user data, say) is replaced in place by `[plaintext redacted: <kind>]` (dpaguard.deployment.credentials),
and so is one written in a property or tag *name*, or anywhere else in a resource (its URN, type token,
id or source position: `redact_strings`).

A map that carries the signature key is one of Pulumi's special objects only in their own shape: a
secret is the signature and one payload (`ciphertext`, `plaintext` or `value`), a resource reference,
an asset or an archive keeps its structure with every string in it redacted like any other. Anything
else carrying the key (a forged secret with a plaintext beside its payload, an unknown signature) is
replaced whole by `[plaintext redacted]`, which the secrets control reports.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, Mapping

from dpaguard.model import PLAINTEXT_REDACTED, REDACTED, SECRET_SIG, SECRET_SIG_KEY, UNKNOWN
from dpaguard.deployment.credentials import redact_credentials

# The single source of what a sensitive property or config key looks like (camelCase, snake_case or
# kebab-case). A bare "key" is deliberately absent: it names tag keys, KMS key ids and such.
SENSITIVE_NAME = re.compile(
    r"(?i)("
    r"pass(word|wd|phrase)"
    r"|secret"
    r"|token"
    r"|api[_-]?key"
    r"|private[_-]?key"
    r"|access[_-]?key"
    r"|auth[_-]?key"
    r"|credential"
    r"|certificate[_-]?chain"
    r"|kubeconfig"
    r"|config[_-]?file"
    r"|connection[_-]?string"
    r"|^dsn$"
    r")"
)

# Words that name a credential wherever they stand in a name (`pwd`, `jwt`, `SENTRY_DSN`; `pass` only
# as the last word: `db_pass`, not `passThrough`), and the kinds of key that are key material (`encryptionKey`, `SSH_KEY`, `signing-key`).
_SECRET_WORDS = frozenset({"pwd", "passwd", "jwt", "dsn", "psk"})
_KEY_KINDS = frozenset({"encryption", "ssh", "signing", "sign", "master", "shared", "client", "session", "hmac", "webhook", "deploy", "license", "service"})
# Names made of a URL that carries its own credential: `DATABASE_URL` (postgres://user:password@...), `*_WEBHOOK_URL`.
_CREDENTIAL_URLS = frozenset({"database", "db", "webhook", "redis", "mongo", "mongodb", "amqp", "broker", "postgres", "mysql"})
# A name ending in one of these names something about a credential, not the credential: `secretId`,
# `secretName`, `sshKeyIds`, `passwordLength`. Numbers and booleans are never redacted anyway.
_ABOUT_WORDS = frozenset({"id", "ids", "name", "names", "arn", "arns", "length", "count", "version", "versions", "ref", "refs", "policy", "policies", "enabled", "type", "expiry", "expires"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _words(name: str) -> list[str]:
    """A name's words, lower-cased: `sshKeyIds` -> ssh key ids, `SLACK_WEBHOOK_URL` -> slack webhook url."""
    return [word.lower() for word in _WORD.findall(name)]


def _names_a_credential(words: list[str]) -> bool:
    for index, word in enumerate(words):
        if word in _SECRET_WORDS or word == "pass" and index == len(words) - 1:
            return True
        if word == "key" and index > 0 and words[index - 1] in _KEY_KINDS:
            return True
        if word in ("url", "uri", "dsn") and index > 0 and words[index - 1] in _CREDENTIAL_URLS:
            return True
    return False


# Signature values of Pulumi's other special property objects: resource references, assets, archives,
# output values. Their structure is kept; their strings are redacted like any other.
_RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_SPECIAL_SIGS = frozenset({
    _RESOURCE_REFERENCE_SIG,
    "c44067f5952c0a294b673a41bacd8c17",  # asset
    "0def7320c3a5731c473e5ecbe6d01bc7",  # archive
    "d0e6a833031e9bbcd3f4e8bde6ca49a4",  # output value
})
_SECRET_PAYLOADS = frozenset({"ciphertext", "plaintext", "value"})


@functools.lru_cache(maxsize=65536)
def is_sensitive_name(name: str) -> bool:
    """Whether a property or config key name looks like it holds a credential (not merely names one: `secretId`)."""
    words = _words(name)
    if words and words[-1] in _ABOUT_WORDS and len(words) > 1:
        # `secretName`, `sshKeyIds`: what the name is about precedes the last word; the value is not the credential.
        return False
    return bool(SENSITIVE_NAME.search(name)) or _names_a_credential(words)


# A value that is only the name of an environment variable to fill it from (`${env:SCW_SECRET_KEY}`,
# `${env.DB_PASSWORD}`, `${DB_PASSWORD}`): it holds no credential, so it is no plaintext one either.
_PLACEHOLDER = re.compile(r"\$\{(?:env[:.])?[A-Za-z_][A-Za-z0-9_]*\}")


def is_placeholder(value: Any) -> bool:
    """Whether a value is wholly a placeholder naming an environment variable (`${env:NAME}`), no credential."""
    return isinstance(value, str) and _PLACEHOLDER.fullmatch(value.strip()) is not None


# An OpenSSH public key line (`ssh-ed25519 AAAA... comment`): what a server is given to trust, published
# by design; an `ssh_key` setting holding one holds no credential. A private key never has this form.
_PUBLIC_KEY = re.compile(r"(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
                         r" AAAA[A-Za-z0-9+/]+={0,3}(?: [^\n]*)?")


def holds_no_credential(value: Any) -> bool:
    """Whether a value under a credential's name is none by its form: an `${env:NAME}` placeholder or an SSH public key."""
    return is_placeholder(value) or (isinstance(value, str) and _PUBLIC_KEY.fullmatch(value.strip()) is not None)


# A name/value pair (a Kubernetes container's `env`, a Helm release's `set`, an ECS task's `environment`):
# the name says what the value beside it is, as a property key would.
_PAIR_NAMES = ("name", "Name", "key", "Key")
_PAIR_VALUES = frozenset({"value", "Value"})


def pair_name(mapping: Any) -> str | None:
    """The name a name/value pair gives its value (`{name: DB_PASSWORD, value: ...}`), None for any other mapping."""
    if not isinstance(mapping, dict) or _PAIR_VALUES.isdisjoint(mapping):
        return None
    name = next((mapping[key] for key in _PAIR_NAMES if isinstance(mapping.get(key), str)), None)
    return name if name else None


def is_secret(value: Any) -> bool:
    """Whether a value is a secret wrapper of serialized Pulumi properties or state: the signature and one payload."""
    return (
        isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG
        and len(value) == 2 and not _SECRET_PAYLOADS.isdisjoint(value)
    )


def _special(value: dict[Any, Any]) -> bool:
    """Whether a map carrying the signature key is a resource reference, an asset, an archive or an output value."""
    return isinstance(value.get(SECRET_SIG_KEY), str) and value[SECRET_SIG_KEY] in _SPECIAL_SIGS


def redact_strings(value: Any) -> Any:
    """A copy of any JSON value with a Scaleway or DataPacket credential cut out of every string, keys included."""
    if isinstance(value, str):
        return redact_credentials(value)
    if isinstance(value, dict):
        return {redact_credentials(str(k)): redact_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_strings(v) for v in value]
    return value


def secret_placeholder() -> dict[str, str]:
    """A secret wrapper holding no value: what every secret becomes."""
    return {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}


def _redact_plain(value: Any) -> Any:
    """A value under a sensitive name: every plain string inside it replaced, secrets wrapped as placeholders."""
    if isinstance(value, str):
        return value if value in ("", UNKNOWN) or holds_no_credential(value) else PLAINTEXT_REDACTED
    if isinstance(value, dict):
        if is_secret(value):
            return secret_placeholder()
        if SECRET_SIG_KEY in value:
            if not _special(value):
                return PLAINTEXT_REDACTED  # a forged secret or an unknown signature: nothing of it is shown
            return {k: v if k == SECRET_SIG_KEY else _redact_plain(v) for k, v in value.items()}
        # Under a credential's name, what only names or describes it stays (a Kubernetes volume's
        # `secret: {secretName: tls}`, `secretRef: {name: ...}`); everything else is taken as the credential.
        return {
            redact_credentials(str(k)): redact_tree(v, None) if _names_about(str(k)) else _redact_plain(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_plain(v) for v in value]
    return value


def _names_about(name: str) -> bool:
    """Whether a key names or describes something rather than holding it (`name`, `secretName`, `keyId`)."""
    words = _words(name)
    return bool(words) and words[-1] in _ABOUT_WORDS and not _names_a_credential(words[:-1] if len(words) > 1 else [])


def redact_tree(value: Any, name: str | None = None, share: Callable[[str], str] | None = None) -> Any:
    """A copy of a property tree with secrets emptied and sensitive-named plaintext replaced.

    `name` is the property name the value sits under (None at the root of a property map). Numbers,
    booleans, nulls and the UNKNOWN marker are kept: they are no credential and policies need them.
    `share`, when given, maps each kept string (keys included) to its copy with credentials cut out
    (`redact_credentials`), one shared copy for equal strings: a state file's reader remembers each
    string's answer, since most strings of an estate recur (keys, regions, tags).
    """
    if name is not None and is_sensitive_name(name):
        return _redact_plain(value)
    if isinstance(value, str):
        # A Scaleway or DataPacket credential under any name (cloud-init user data, a tag, an env var list).
        return redact_credentials(value) if share is None else share(value)
    if isinstance(value, dict):
        if is_secret(value):
            return secret_placeholder()
        if SECRET_SIG_KEY in value:
            if not _special(value):
                return PLAINTEXT_REDACTED  # a forged secret or an unknown signature: nothing of it is shown
            return {k: v if k == SECRET_SIG_KEY else redact_strings(v) for k, v in value.items()}
        # A name/value pair's value is under the name the pair gives it (`{name: API_TOKEN, value: ...}`).
        given = pair_name(value)
        under = ({str(k): given if k in _PAIR_VALUES else str(k) for k in value}
                 if given is not None and is_sensitive_name(given) else None)
        # A credential used as a property or tag name is cut out of the name like out of a value.
        if share is None:
            return {redact_credentials(str(k)): redact_tree(v, str(k) if under is None else under[str(k)]) for k, v in value.items()}
        return _shared_map(value, share, under)
    if isinstance(value, list):
        return [redact_tree(v, name, share) for v in value]
    return value


def _shared_map(value: dict[str, Any], share: Callable[[str], str], under: Mapping[str, str] | None = None) -> dict[str, Any]:
    """redact_tree of a map, `share` given (`under`: the name each key's value is under, when not the key itself).

    A plain string under a name that is not sensitive is redacted without recursing.
    """
    out = {}
    for key, item in value.items():
        name = key if under is None else under[key]
        out[share(key)] = share(item) if type(item) is str and not is_sensitive_name(name) else redact_tree(item, name, share)
    return out


def _mask_secret(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_secret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secret(v) for v in value]
    return value if value is None or value == "" else REDACTED


def redact_config(values: Any, secret_keys: Any = ()) -> dict[str, Any]:
    """Stack config as it may be shown: every leaf of a secret key REDACTED, sensitive plaintext replaced.

    Keys are namespaced (`scaleway:secretKey`); the name after the namespace is what looks sensitive.
    """
    if not isinstance(values, dict):
        return {}
    shown: dict[str, Any] = {}
    for key, value in values.items():
        key = str(key)
        if key in secret_keys:
            shown[key] = _mask_secret(value)
        else:
            shown[key] = redact_tree(value, key.split(":", 1)[-1])
    return shown


def redact_properties(properties: Any, share: Callable[[str], str] | None = None) -> Any:
    """A property map (inputs, outputs) with redact_tree applied to every entry (`share`: see redact_tree)."""
    if not isinstance(properties, dict) or is_secret(properties):
        return redact_tree(properties, None, share)
    if share is None:
        return {redact_credentials(str(k)): redact_tree(v, str(k)) for k, v in properties.items()}
    return _shared_map(properties, share)
