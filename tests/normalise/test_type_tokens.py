"""A type token that reads like a known one but is not exactly it (an invisible character, another Unicode form) is refused.

`scaleway:object/bucket:Bucket` followed by U+200B is a type no control examines: judged as written
it passed every control (issue 24, L9). Such a deployment stops the run (exit 2, one line naming
the code point, never the token: a token may carry anything).
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from dpaguard.cli import main
from dpaguard.errors import InputError
from dpaguard.normalise import normalise
from dpaguard.deployment.types import type_token_problem
from dpaguard.policy import Policy
from dpaguard.source.state import to_export

from support.control_estate import TODAY, compliant_resources, deployment

BUCKET = "scaleway:object/bucket:Bucket"


@pytest.mark.parametrize(
    "token",
    [
        BUCKET + "\u200b",  # zero width space
        BUCKET + "\u2060",  # word joiner
        "\ufeff" + BUCKET,  # byte order mark
        BUCKET.replace("/", "\u00ad/"),  # soft hyphen
        BUCKET + "\u3164",  # Hangul filler (a letter that renders blank)
        BUCKET + "\u2800",  # braille blank
        BUCKET + " ",
        BUCKET + "\u00a0",
        BUCKET + "\x00",
        BUCKET.replace("Bucket", "Bucke\u0301t"),  # a combining mark
        BUCKET.replace("s", "\uff53", 1),  # fullwidth s: NFKC reads it as s
        "scaleway:object/bucket:\ufb01le",  # the ligature fi
        "my:composant:Donne\u0301es",  # a decomposed é: NFKC composes it
    ],
)
def test_a_token_that_is_not_exactly_what_it_reads_as_is_refused(token: str) -> None:
    assert type_token_problem(token)


@pytest.mark.parametrize("token", [BUCKET, "pulumi:pulumi:Stack", "pulumi-python:dynamic/datapacket:Server", "my:composant:Données", "a:b$c:D"])
def test_tokens_as_programs_write_them_are_taken(token: str) -> None:
    assert type_token_problem(token) is None


def test_the_reason_names_the_code_point() -> None:
    assert type_token_problem(BUCKET + "\u200b") == "holds U+200B (ZERO WIDTH SPACE), a character no type token holds"
    assert unicodedata.normalize("NFKC", "\uff53") == "s"


def _with_bucket_typed(token: str) -> list[dict[str, object]]:
    resources = compliant_resources("prod")
    for resource in resources:
        if resource["type"] == BUCKET:
            resource["type"] = token
            resource["urn"] = str(resource["urn"]).replace(BUCKET, token)
    return resources


def test_the_normaliser_refuses_the_deployment(policy: Policy) -> None:
    with pytest.raises(InputError, match=r"resource #\d+: its type token holds U\+200B"):
        normalise([deployment("prod", _with_bucket_typed(BUCKET + "\u200b"))], policy.data, today=TODAY)


def test_audit_stops_with_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "prod.json"
    export.write_text(json.dumps(to_export(deployment("prod", _with_bucket_typed(BUCKET + "\u200b")))), encoding="utf-8")
    code = main(["audit", "--state", str(export), "--today", TODAY.isoformat(), "--format", "json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("dpaguard: ") and "U+200B" in err
    assert "\u200b" not in err
