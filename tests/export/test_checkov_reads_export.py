"""checkov's own terraform_plan framework reads the export and runs our custom YAML checks against it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dpaguard.export import tfplan_json

from support import CHECKOV_CUSTOM
from support.checkov_project import require_checkov
from support.export_estate import make_deployment, resource

pytestmark = pytest.mark.checkov


def _checkov_plan(plan_file: Path, checks: str) -> dict[str, set[str]]:
    checkov = require_checkov()
    completed = subprocess.run(
        [str(checkov), "-f", plan_file.name, "--framework", "terraform_plan", "--external-checks-dir",
         str(CHECKOV_CUSTOM), "--check", checks, "-o", "json", "--skip-download"],
        cwd=plan_file.parent, capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    report: Any = json.loads(completed.stdout)
    reports = report if isinstance(report, list) else [report]
    outcome: dict[str, set[str]] = {"passed": set(), "failed": set()}
    for item in reports:
        assert item.get("check_type", "terraform_plan") == "terraform_plan"
        results = item.get("results", {})
        for kind in outcome:
            outcome[kind] |= {f"{r['check_id']} {r['resource']}" for r in results.get(f"{kind}_checks", [])}
    return outcome


def test_region_check_passes_fr_par_and_fails_amsterdam(tmp_path: Path) -> None:
    deployment = make_deployment([
        resource("scaleway:object/bucket:Bucket", "in-paris", {"name": "a", "region": "fr-par"}),
        resource("scaleway:object/bucket:Bucket", "in-amsterdam", {"name": "b", "region": "nl-ams"}),
        # deprecated token, region left to the provider (fr-par): passes
        resource("scaleway:index/databaseInstance:DatabaseInstance", "legacy-db", {"engine": "PostgreSQL-15"}),
    ])
    plan = tmp_path / "plan.json"
    plan.write_text(tfplan_json(deployment))
    outcome = _checkov_plan(plan, "CKV2_DPA_1")
    assert outcome["failed"] == {"CKV2_DPA_1 scaleway_object_bucket.in-amsterdam"}
    assert outcome["passed"] == {"CKV2_DPA_1 scaleway_object_bucket.in-paris", "CKV2_DPA_1 scaleway_rdb_instance.legacy-db"}


def test_block_and_renamed_attributes_are_where_terraform_checks_look(tmp_path: Path) -> None:
    deployment = make_deployment([
        resource("scaleway:instance/securityGroup:SecurityGroup", "open-sg", {"inboundRules": [{"action": "accept"}]}),
        resource("scaleway:instance/securityGroup:SecurityGroup", "closed-sg", {"inboundDefaultPolicy": "drop"}),
        resource("scaleway:redis/cluster:Cluster", "plain-redis", {"tlsEnabled": False, "zone": "fr-par-1"}),
        resource("scaleway:databases/instance:Instance", "db", {"disableBackup": True, "backupSameRegion": True}),
    ])
    plan = tmp_path / "plan.json"
    plan.write_text(tfplan_json(deployment))
    outcome = _checkov_plan(plan, "CKV2_DPA_2,CKV2_DPA_3,CKV2_DPA_4,CKV2_DPA_5")
    assert outcome["failed"] == {
        "CKV2_DPA_5 scaleway_instance_security_group.open-sg",
        "CKV2_DPA_4 scaleway_redis_cluster.plain-redis",
        "CKV2_DPA_2 scaleway_rdb_instance.db",
    }
    assert {"CKV2_DPA_5 scaleway_instance_security_group.closed-sg", "CKV2_DPA_3 scaleway_rdb_instance.db"} <= outcome["passed"]
