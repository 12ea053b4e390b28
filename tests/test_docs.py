"""The README is a manual's first page and docs/ holds the rest: what they state is held to the repository.

The README starts with the two commands `.ci/run` runs (set-up with the main job, then the tests), stays
short, and links only pages that exist; docs/architecture.md names only paths that exist; docs/engines.md
states what `.ci/real-tools` builds and which Go modules stand in for refused ones; docs/benchmarks.md
names only benchmark scripts that exist, and every one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

from support import REPO, TESTS

README = REPO / "README.md"
DOCS = REPO / "docs"
MAX_README_LINES = 260
SETUP = ".venv/bin/python -m pytest"
# The two commands, in this order, are the README's first block; `.ci/run` runs them on a clean clone.
TWO_COMMANDS = ["bash .ci/setup", SETUP]
MAIN_JOB = ".venv/bin/dpaguard check --all-stacks --require-checkov"


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Each fenced code block: the line it opens on and its lines."""
    blocks: list[tuple[int, list[str]]] = []
    lines = text.splitlines()
    start: int | None = None
    for number, line in enumerate(lines):
        if line.startswith("```"):
            if start is None:
                start = number
            else:
                blocks.append((start, lines[start + 1:number]))
                start = None
    return blocks


def _commands(block: list[str]) -> list[str]:
    """A shell block's commands, without their comments."""
    return [line.split("#", 1)[0].strip() for line in block if line.split("#", 1)[0].strip()]


def _script_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_readme_is_at_most_a_manual_first_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move the detail to docs/"


def test_the_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    start, block = _blocks(text)[0]
    assert _commands(block) == TWO_COMMANDS
    before = text.splitlines()[:start]
    assert not [line for line in before if line.startswith("## ")], "the two commands come before any section"


def test_the_two_commands_are_what_ci_runs() -> None:
    # .ci/setup ends with the main job the README describes; .ci/run runs the set-up, then the test command.
    setup = _script_lines(REPO / ".ci" / "setup")
    assert setup[-1] == MAIN_JOB
    assert MAIN_JOB.removeprefix(".venv/bin/") in README.read_text(encoding="utf-8")
    run = _script_lines(REPO / ".ci" / "run")
    assert "bash .ci/setup" in run
    assert run[-1].startswith(SETUP)
    assert run.index("bash .ci/setup") < len(run) - 1


def test_the_readme_names_the_third_command_and_the_fast_tier() -> None:
    text = README.read_text(encoding="utf-8")
    assert any(_commands(block) == ["bash .ci/real-tools"] for _, block in _blocks(text))
    assert (REPO / ".ci" / "real-tools").is_file()
    assert any(_commands(block) == [f'{SETUP} -m "not e2e"'] for _, block in _blocks(text))


def test_every_docs_page_the_readme_links_exists_and_every_page_is_linked() -> None:
    text = README.read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[^)#\s]+\.md)(?:#[^)]*)?\)", text))
    assert linked, "the README links no page of docs/"
    missing = sorted(link for link in linked if not (REPO / link).is_file())
    assert not missing, f"README.md links pages that do not exist: {missing}"
    pages = {path.relative_to(REPO).as_posix() for path in DOCS.glob("*.md")}
    assert not sorted(pages - linked), f"pages of docs/ the README does not link: {sorted(pages - linked)}"


def test_every_link_between_docs_pages_resolves() -> None:
    broken = []
    for page in sorted(DOCS.glob("*.md")):
        for target in re.findall(r"\]\(([^)#\s:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                broken.append(f"{page.name} -> {target}")
    assert not broken


# A path in the repository: under one of its top-level folders, or one of its top-level files.
_PATH = re.compile(r"(?<![\w./-])((?:dpaguard|policies|tests|infra|stacks|docs|\.ci|\.github)/[\w./-]*[\w/])")
_TOP_FILES = re.compile(r"`((?:Pulumi\.yaml|setup\.py|MANIFEST\.in|pyproject\.toml|requirements\.txt|SECURITY\.md|README\.md))`")


def named_paths(text: str) -> set[str]:
    """The repository paths a page names (a path with a placeholder such as `<format>` is a pattern, not a path)."""
    return set(_PATH.findall(text)) | set(_TOP_FILES.findall(text))


def test_the_path_pattern_reads_paths_as_a_reader_would() -> None:
    text = "`dpaguard/engine/`, `policies/dpa/controls.yaml`; `dpaguard/report/<format>.py` and ../shared/STYLE.md, `Pulumi.yaml`"
    assert named_paths(text) == {"dpaguard/engine/", "policies/dpa/controls.yaml", "dpaguard/report/", "Pulumi.yaml"}


def test_every_path_the_architecture_names_exists() -> None:
    named = named_paths((DOCS / "architecture.md").read_text(encoding="utf-8"))
    assert len(named) > 30, "docs/architecture.md names the folder of each stage"
    missing = sorted(path for path in named if not (REPO / path).exists())
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_the_engines_page_states_what_real_tools_builds_and_what_stands_in() -> None:
    # Every Go module .ci/real-tools names (the real ones and those the proxy refused) is stated, and the
    # Scaleway provider is said to be a DOUBLE.
    header = [line for line in (REPO / ".ci" / "real-tools").read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    modules = set(re.findall(r"github\.com/[\w./-]+[\w]", "\n".join(header)))
    assert len(modules) >= 5
    engines = (DOCS / "engines.md").read_text(encoding="utf-8")
    assert not sorted(m for m in modules if m not in engines), sorted(m for m in modules if m not in engines)
    assert "pulumi-terraform-bridge" in engines and "refused" in engines
    assert re.search(r"pulumi-resource-scaleway.*DOUBLE", engines)


def test_the_benchmarks_page_names_every_script_and_only_scripts_that_exist() -> None:
    text = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    named = set(re.findall(r"-m benchmarks\.(\w+)", text))
    scripts = {path.stem for path in (TESTS / "benchmarks").glob("*.py") if path.stem != "__init__"}
    assert named == scripts


def test_no_section_is_fenced_by_its_owner() -> None:
    pages = [README, REPO / "SECURITY.md", *sorted(DOCS.glob("*.md"))]
    fenced = [page.name for page in pages if re.search(r"<!--\s*(BEGIN|END)\b|owner:", page.read_text(encoding="utf-8"))]
    assert not fenced
