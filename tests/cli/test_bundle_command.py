"""`dpaguard data` and `dpaguard bundle` through the command line: the DPA tables as OPA data,
and an OPA bundle whose layout, manifest and bytes follow OPA's bundle format, read back here with
tarfile and gzip and loaded into real OPA (opa_bindings)."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from opa_bindings import OpaEngine

from dpaguard.policy import load_policy
from support import POLICIES
from support.cli import assert_one_line_error, dpaguard, dpaguard_command


def members(bundle: Path) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(bundle, "r:gz") as archive:
        found = {}
        for info in archive.getmembers():
            stream = archive.extractfile(info)
            assert stream is not None
            found[info.name] = (info, stream.read())
        return found


def test_bundle_layout_and_manifest(tmp_path: Path, policy: Any) -> None:
    run = dpaguard("bundle", "--policies", POLICIES, "--output", tmp_path / "dpa.tar.gz")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    entries = members(tmp_path / "dpa.tar.gz")
    modules = sorted(p.relative_to(POLICIES).as_posix() for p in (POLICIES / "rego").rglob("*.rego")
                     if not p.name.endswith("_test.rego"))
    assert modules and any(p.name.endswith("_test.rego") for p in (POLICIES / "rego").rglob("*.rego"))
    # sorted entries: the manifest, the data at the root, every module under its relative path
    assert list(entries) == [".manifest", "data.json", *modules]
    manifest = json.loads(entries[".manifest"][1])
    assert manifest == {"revision": policy.sha256, "roots": ["dpaguard", "dpa"], "rego_version": 1}
    assert len(manifest["revision"]) == 64
    assert json.loads(entries["data.json"][1]) == {"dpa": json.loads(json.dumps(dict(policy.data)))}
    for rel in modules:
        assert entries[rel][1].decode() == (POLICIES / rel).read_text(encoding="utf-8")
    for info, _ in entries.values():
        assert (info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode) == (0, 0, 0, "", "", 0o644)
        assert info.isfile()


def test_bundle_bytes_are_deterministic(tmp_path: Path) -> None:
    dpaguard("bundle", "--policies", POLICIES, "--output", tmp_path / "a.tar.gz")
    copy = tmp_path / "elsewhere" / "policies"
    shutil.copytree(POLICIES, copy)
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))  # other mtimes, another folder
    run = dpaguard("bundle", "--policies", copy, "--output", tmp_path / "b.tar.gz")
    assert run.returncode == 0, run.stderr
    first, second = (tmp_path / "a.tar.gz").read_bytes(), (tmp_path / "b.tar.gz").read_bytes()
    assert first == second
    assert first[4:8] == b"\0\0\0\0"  # gzip header mtime 0
    assert gzip.decompress(first)[:9] == b".manifest"  # no file name in the gzip header, the tar first


def test_bundle_revision_follows_the_policies(tmp_path: Path, policy: Any) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(POLICIES, copy)
    with open(copy / "waivers.yaml", "a", encoding="utf-8") as stream:
        stream.write("\n# reviewed again\n")
    dpaguard("bundle", "--policies", copy, "--output", tmp_path / "changed.tar.gz")
    manifest = json.loads(members(tmp_path / "changed.tar.gz")[".manifest"][1])
    assert manifest["revision"] == load_policy(copy).sha256 != policy.sha256


def test_bundle_to_stdout(tmp_path: Path) -> None:
    dpaguard("bundle", "--policies", POLICIES, "--output", tmp_path / "file.tar.gz")
    piped = subprocess.run([*dpaguard_command(), "bundle", "--policies", str(POLICIES), "--output", "-"],
                           capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert piped.returncode == 0 and piped.stdout == (tmp_path / "file.tar.gz").read_bytes()


def test_data_loads_into_opa_as_data_dpa(tmp_path: Path, policy: Any) -> None:
    run = dpaguard("data", "--policies", POLICIES, "--output", tmp_path / "data.json")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    document = json.loads((tmp_path / "data.json").read_text(encoding="utf-8"))
    assert list(document) == ["dpa"]
    engine = OpaEngine()
    engine.add_data(document)
    for rel, text in policy.rego_modules.items():
        engine.add_policy(rel, text)
    # what `opa eval -d policies/rego -d data.json` sees: data.dpa is the policy data, the modules compile
    assert engine.eval_query("x = data.dpa")[0]["x"] == json.loads(json.dumps(dict(policy.data)))
    facts: dict[str, Any] = {"stacks": [], "resources": [], "context": {}, "index": {}}
    assert engine.eval_query("x = data.dpaguard.main.decisions", facts)[0]["x"] == []
    engine.close()
    # stdout, with `-` or no --output, is the same document
    assert dpaguard("data", "--policies", POLICIES).stdout == (tmp_path / "data.json").read_text(encoding="utf-8")
    assert dpaguard("data", "--policies", POLICIES, "-o", "-").stdout == (tmp_path / "data.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["data", "bundle"])
def test_bad_input_is_one_line(tmp_path: Path, command: str) -> None:
    output = tmp_path / "out"
    assert_one_line_error(dpaguard(command, "--policies", tmp_path / "missing", "--output", output),
                          "policies folder not found")
    assert_one_line_error(dpaguard(command, "--policies", POLICIES, "--output", tmp_path / "no" / "such" / "out"),
                          "folder " + str(tmp_path / "no" / "such") + " does not exist")
    assert_one_line_error(dpaguard(command, "--policies", POLICIES, "--output", tmp_path),
                          "is a directory")
    broken = tmp_path / "policies"
    shutil.copytree(POLICIES, broken)
    (broken / "rego" / "main.rego").write_text("package dpaguard.main\n\ndecisions contains x if {{{\n", encoding="utf-8")
    assert_one_line_error(dpaguard(command, "--policies", broken, "--output", output), "load policies: ")
    assert not output.exists()


@pytest.mark.parametrize("command", ["data", "bundle"])
def test_output_that_fails_to_write(command: str) -> None:
    # /dev/full takes the open and refuses the write (ENOSPC), for root as for anyone
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    assert_one_line_error(dpaguard(command, "--policies", POLICIES, "--output", "/dev/full"),
                          "/dev/full: cannot write the ")


def test_unwritable_folder(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may write into a read-only folder (the /dev/full test covers a failing write)")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for command in ("data", "bundle"):
            assert_one_line_error(dpaguard(command, "--policies", POLICIES, "--output", locked / "out"),
                                  "is not writable")
    finally:
        locked.chmod(0o700)


def test_bundle_is_gzip_tar_readable_by_tarfile_stream(tmp_path: Path) -> None:
    # OPA reads the bundle as a stream (gzip then tar, in order): a streaming read must see it all
    dpaguard("bundle", "--policies", POLICIES, "--output", tmp_path / "dpa.tar.gz")
    with tarfile.open(fileobj=io.BytesIO((tmp_path / "dpa.tar.gz").read_bytes()), mode="r|gz") as stream:
        names = [info.name for info in stream]
    assert names[:2] == [".manifest", "data.json"] and len(names) > 5
