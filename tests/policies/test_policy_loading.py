"""load_policy fails closed: a malformed catalogue, register, retention table, waiver file or Rego module
is a PolicyError naming the file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from support import POLICIES
from dpaguard.errors import PolicyError
from dpaguard.policy import load_policy, policy_digest


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES, root)
    return root


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_shipped_policies_load(policies: Path) -> None:
    policy = load_policy(policies)
    assert len(policy.controls) >= 45
    assert policy.control("DPA-RES-001").clause.startswith("Appendix C §1.1")
    assert set(policy.data) >= {"locations", "subprocessors", "retention", "settings"}
    assert all(name.startswith("rego/") and not name.endswith("_test.rego") for name in policy.rego_modules)


def test_broken_yaml_names_file_and_line(policies: Path) -> None:
    path = policies / "dpa" / "controls.yaml"
    lines = path.read_text().splitlines()
    at = lines.index("retired:")  # a line of the file's structure, wherever the categories end
    lines[at + 1] = "  - id: [unclosed"
    path.write_text("\n".join(lines))
    with pytest.raises(PolicyError, match=rf"controls\.yaml:({at + 2}|{at + 3}|{at + 4}): invalid YAML"):
        load_policy(policies)


def test_bad_severity_names_the_entry_line(policies: Path) -> None:
    path = policies / "dpa" / "controls.yaml"
    _replace(path, "severity: critical", "severity: catastrophic")
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "id: DPA-RES-001" in text)
    with pytest.raises(PolicyError, match=rf"controls\.yaml:{line}: control DPA-RES-001: severity `catastrophic`"):
        load_policy(policies)


def test_unknown_category_is_refused(policies: Path) -> None:
    _replace(policies / "dpa" / "controls.yaml", "category: residency", "category: geography")
    with pytest.raises(PolicyError, match="category `geography`"):
        load_policy(policies)


_UNDATED = "notified: null, added: null, packages: [datapacket]"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("subprocessors.yaml", _UNDATED, "notified: null, added: 2024-01-29, packages: [datapacket]",
         r"subprocessors\.yaml:\d+: sub-processor DATAPACKET: `notified` and `added` are both dates or both null"),
        ("subprocessors.yaml", _UNDATED, "notified: soon, added: null, packages: [datapacket]",
         r"subprocessors\.yaml:\d+: sub-processor DATAPACKET: `notified` and `added` must be dates \(YYYY-MM-DD\) or null"),
        ("controls.yaml", "    reason: >-\n", "    why: >-\n",
         r"controls\.yaml:\d+: retired control DPA-SUB-004: a retired control needs a `date`"),
        ("locations.yaml", "sites: [Scaleway DC 5]", "sites: DC5",
         r"locations\.yaml:\d+: scaleway\.zones\.fr-par-2: `sites` must list"),
    ],
    ids=["one-date-only", "not-a-date", "retired-without-reason", "sites-not-a-list"],
)
def test_malformed_issue_13_entry_names_file_and_line(policies: Path, file: str, old: str, new: str, message: str) -> None:
    _replace(policies / "dpa" / file, old, new)
    with pytest.raises(PolicyError, match=message):
        load_policy(policies)


def test_register_records_no_invented_date() -> None:
    # The DPA text gives no date for any Appendix B entry: every one is unknown, none guessed.
    entries = load_policy(POLICIES).data["subprocessors"]["entries"]
    assert entries and all(e["notified"] is None and e["added"] is None for e in entries)


def test_retention_min_above_max(policies: Path) -> None:
    _replace(policies / "dpa" / "retention.yaml", "min_days: 365, max_days: 366", "min_days: 400, max_days: 366")
    with pytest.raises(PolicyError, match=r"retention\.yaml:\d+: data category call-logs: min_days exceeds max_days"):
        load_policy(policies)


def test_rego_syntax_error_names_file_and_line(policies: Path) -> None:
    path = policies / "rego" / "secrets.rego"
    text = path.read_text()
    path.write_text(text.replace("some path in r.plaintext_paths", "some path in r.plaintext_paths +* ]", 1))
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if "+* ]" in t)
    with pytest.raises(PolicyError, match=rf"rego/secrets\.rego:{line}:\d+: "):
        load_policy(policies)


def test_malformed_waiver_file_is_fatal(policies: Path) -> None:
    (policies / "waivers.yaml").write_text("waivers:\n  - control: DPA-RES-001\n    urn: [\n")
    with pytest.raises(PolicyError, match=r"waivers\.yaml:\d+: invalid YAML"):
        load_policy(policies)


def test_waiver_file_of_the_wrong_shape_is_fatal(policies: Path) -> None:
    (policies / "waivers.yaml").write_text("waivers: DPA-RES-001\n")
    with pytest.raises(PolicyError, match=r"waivers\.yaml"):
        load_policy(policies)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policies directory not found"):
        load_policy(tmp_path / "nowhere")


def test_digest_changes_with_any_policy_file(policies: Path) -> None:
    before = policy_digest(policies)
    assert load_policy(policies).sha256 == before
    _replace(policies / "dpa" / "locations.yaml", "approved_countries: [FR]", "approved_countries: [FR, NL]")
    assert policy_digest(policies) != before
    (policies / "notes.txt").write_text("not evaluated")
    assert policy_digest(policies) == policy_digest(policies)


def test_only_shared_builtins_are_used(policies: Path) -> None:
    import re

    import regopy

    interpreter = regopy.Interpreter()
    text = "\n".join(p.read_text() for p in (policies / "rego").rglob("*.rego"))
    calls = set(re.findall(r"\b((?:[a-z_]+\.)?[a-z_]+)\(", text))
    local = set(re.findall(r"^(_?[a-z_]+)\(", text, re.MULTILINE)) | {"result.violation", "result.undetermined", "result.decision", "result.config_violation", "facts.is_unknown", "facts.is_internet", "facts.stack_of", "facts.prop_or"}
    builtins = {c for c in calls - local if not c.startswith("_")}
    assert builtins, "found no builtin calls: the scan is broken"
    assert all(interpreter.is_builtin(name) for name in builtins), sorted(b for b in builtins if not interpreter.is_builtin(b))
    assert not builtins & {"net.cidr_contains", "net.cidr_intersects", "time.parse_rfc3339_ns"}


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("controls.yaml", "  - id: DPA-RES-002", "  - id: DPA-RES-001", r"control DPA-RES-001: duplicate id"),
        ("subprocessors.yaml", "{name: DATAPACKET,", "{name: SCALEWAY,", r"sub-processor SCALEWAY: duplicate name"),
        ("retention.yaml", "{id: sms-logs,", "{id: call-logs,", r"data category call-logs: duplicate id"),
    ],
)
def test_duplicate_entries_name_the_second_one(policies: Path, file: str, old: str, new: str, message: str) -> None:
    path = policies / "dpa" / file
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if old in text)
    _replace(path, old, new)
    with pytest.raises(PolicyError, match=rf"{file.replace('.', '[.]')}:{line}: {message}"):
        load_policy(policies)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{fact: env_tag, controls: [DPA-SEG-002]}", "{fact: env_tag, controls: [DPA-SEG-999]}", "tags: unknown control DPA-SEG-999"),
        ("{fact: env_tag, controls: [DPA-SEG-002]}", "{fact: owner, controls: [DPA-SEG-002]}", "tags: `fact` must be one of"),
        ("{fact: env_tag, controls: [DPA-SEG-002]}", "{fact: env_tag, controls: []}", "tags: `controls` must list"),
    ],
)
def test_a_bad_tags_entry_of_properties_yaml_is_refused(policies: Path, old: str, new: str, message: str) -> None:
    # properties.yaml `tags` says which controls a tag unknown until apply makes undetermined: a wrong entry would pass it.
    _replace(policies / "dpa" / "properties.yaml", old, new)
    with pytest.raises(PolicyError, match=r"properties\.yaml:\d+: " + message.replace("[", r"\[")):
        load_policy(policies)


@pytest.mark.parametrize("new", [
    "ipId: {type: string, controls: [DPA-ACC-002], presence: yes-ish}",
    "ipIds: {type: list, controls: [DPA-ACC-002], items: {type: string, presence: true}}",
])
def test_presence_is_a_boolean_of_a_property_only(policies: Path, new: str) -> None:
    # `presence: true` turns an unknown value into a set one: only a property, and only as a boolean, may say so.
    old = new.split(":", 1)[0]
    path = policies / "dpa" / "properties.yaml"
    line = next(text for text in path.read_text(encoding="utf-8").splitlines() if text.strip().startswith(f"{old}:"))
    _replace(path, line.strip(), new)
    with pytest.raises(PolicyError, match=r"properties\.yaml:\d+: .*`presence` is true or false, on a property only"):
        load_policy(policies)


def test_the_versions_table_reaches_the_rego_data(policies: Path) -> None:
    engines = load_policy(policies).data["versions"]["engines"]
    postgres = {v["version"]: v for v in engines["scaleway:databases/instance:Instance"]}
    assert postgres["PostgreSQL-13"]["end_of_life"] == "2025-11-13" and postgres["PostgreSQL-13"]["source"].startswith("https://")
    (floor,) = load_policy(policies).data["versions"]["floors"]["scaleway:redis/cluster:Cluster"]
    assert floor == {"below": "7.2.11", "since": "2025-10-15", "advisory": "CVE-2025-49844",
                     "source": "https://www.scaleway.com/en/docs/managed-databases-for-redis/api-cli/upgrade-redis-version/"}
    (policies / "dpa" / "versions.yaml").unlink()  # no table: every version unrecorded (DPA-UPD-003), never passed
    assert load_policy(policies).data["versions"] == {"engines": {}, "floors": {}}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("end_of_life: 2025-11-13,", "end_of_life: soon,", "needs a version, an end_of_life date (YYYY-MM-DD) and a source"),
    ("end_of_life: 2025-11-13,", "end_of_life: null,", "needs a version, an end_of_life date (YYYY-MM-DD) and a source"),
    (', source: "https://www.postgresql.org/support/versioning/"}', "}", "each version gives exactly"),
    ("  - type: \"scaleway:redis/cluster:Cluster\"\n", "  - type: \"scaleway:redis/cluster:Cluster\"\n    property: version\n",
     "an engine gives exactly `type` and `versions`"),
    ('{below: "7.2.11",', "{below: 7.2,", "needs `below` as MAJOR.MINOR.PATCH"),
    ('{below: "7.2.11",', '{below: "v7.2.11",', "needs `below` as MAJOR.MINOR.PATCH"),
    ("since: 2025-10-15,", "since: recently,", "a `since` date (YYYY-MM-DD)"),
    ("advisory: CVE-2025-49844,", "advisory: the Lua one,", "a CVE id as `advisory`"),
    ("advisory: CVE-2025-49844,", "", "each floor gives exactly"),
])
def test_a_malformed_versions_table_names_file_and_line(policies: Path, old: str, new: str, expected: str) -> None:
    _replace(policies / "dpa" / "versions.yaml", old, new)
    with pytest.raises(PolicyError, match=r"versions\.yaml:\d+: engine scaleway:\S+: .*" + re.escape(expected)):
        load_policy(policies)
