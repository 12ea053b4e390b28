"""The CLI's shared pieces: format/output pairing, colour decision, progress lines, report writing."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from dpaguard.cli._common import Output, ProgressLine, plan_outputs, use_color, write_report
from dpaguard.errors import OutputError, UsageError


def test_outputs_pair_with_formats_by_position(tmp_path: Path) -> None:
    sarif = str(tmp_path / "out.sarif")
    assert plan_outputs(["text", "sarif"], ["-", sarif]) == [Output("text", "-"), Output("sarif", sarif)]
    assert plan_outputs(["sarif", "text"], [sarif]) == [Output("sarif", sarif), Output("text", "-")]
    assert plan_outputs([], []) == [Output("text", "-")]
    by_extension = plan_outputs([], [str(tmp_path / "a.json"), str(tmp_path / "b.xml"), "-"])
    assert [o.format for o in by_extension] == ["json", "junit", "text"]


@pytest.mark.parametrize(
    ("formats", "outputs", "expected"),
    [
        (["json", "sarif"], [], "formats json and sarif would both go to stdout"),
        (["json", "sarif"], ["-", "-"], "would both go to stdout"),
        (["json"], ["a.json", "b.json"], "2 --output for 1 --format"),
    ],
)
def test_outputs_that_cannot_be_paired(formats: list[str], outputs: list[str], expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        plan_outputs(formats, outputs)


def test_the_same_file_twice_and_unwritable_targets(tmp_path: Path) -> None:
    target = str(tmp_path / "r.json")
    with pytest.raises(UsageError, match="named by more than one --output"):
        plan_outputs(["json", "sarif"], [target, target])
    with pytest.raises(OutputError, match="does not exist"):
        plan_outputs(["json"], [str(tmp_path / "missing" / "r.json")])
    with pytest.raises(OutputError, match="is a directory"):
        plan_outputs(["json"], [str(tmp_path)])


def test_write_report_is_atomic_and_writes_pipes_in_place(tmp_path: Path) -> None:
    target = tmp_path / "r.txt"
    target.write_text("old", encoding="utf-8")
    write_report(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n" and os.listdir(tmp_path) == ["r.txt"]
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_report(fifo, "piped\n")
        assert os.read(reader, 100) == b"piped\n"
    finally:
        os.close(reader)
    with pytest.raises(OutputError, match="cannot write the report"):
        write_report(tmp_path / "gone" / "r.txt", "x")


def test_a_report_longer_than_a_slice_is_written_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from dpaguard.cli import _common, _console

    monkeypatch.setattr(_common, "WRITE_CHARACTERS", 7)
    monkeypatch.setattr(_console, "WRITE_CHARACTERS", 7)
    text = "données «hébergées» en France ✓ 数据\n" * 5  # slices end inside no character, whatever its bytes
    write_report(tmp_path / "r.json", text)
    assert (tmp_path / "r.json").read_bytes() == text.encode("utf-8") and os.listdir(tmp_path) == ["r.json"]
    _console.write_stdout(text)
    assert capsys.readouterr().out == text
    with pytest.raises(UnicodeEncodeError):
        write_report(tmp_path / "r.json", "fine so far" + "\ud800")  # a lone surrogate: never a partial report
    assert (tmp_path / "r.json").read_bytes() == text.encode("utf-8") and os.listdir(tmp_path) == ["r.json"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_color("auto", _Terminal()) and not use_color("auto", io.StringIO())
    assert use_color("always", io.StringIO()) and not use_color("never", _Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", _Terminal())


def test_progress_plain_lines_off_a_terminal_and_one_live_line_on_it() -> None:
    plain = io.StringIO()
    progress = ProgressLine(["prod", "dev"], enabled=True, stream=plain)
    for stack in ("prod", "dev"):
        progress(stack, "start", "")
    progress("dev", "done", "12 resources, 1.0s")
    progress("prod", "failed", "")
    assert plain.getvalue().splitlines() == ["dpaguard: rendered stack dev (12 resources, 1.0s)",
                                             "dpaguard: failed to render stack prod"]
    live = _Terminal()
    progress = ProgressLine(["prod", "dev"], enabled=True, stream=live)
    progress("prod", "start", "")
    progress("prod", "done", "1 resources, 0.1s")
    assert "\n" not in live.getvalue() and "rendering 1/2 stacks" in live.getvalue()
    single = io.StringIO()
    ProgressLine(["prod"], enabled=True, stream=single)("prod", "done", "x")
    assert single.getvalue() == ""  # progress only while several stacks render


def test_progress_shows_the_checkov_scan_alongside() -> None:
    plain = io.StringIO()
    progress = ProgressLine(["prod", "dev"], enabled=True, stream=plain, checkov=True)
    progress("checkov", "start", "")
    progress("prod", "done", "1 resources, 0.1s")
    progress("checkov", "done", "4.2s")
    assert plain.getvalue().splitlines() == ["dpaguard: rendered stack prod (1 resources, 0.1s)",
                                             "dpaguard: checkov scan finished (4.2s)"]
    live = _Terminal()
    progress = ProgressLine(["prod", "dev"], enabled=True, stream=live, checkov=True)
    progress("checkov", "start", "")
    progress("prod", "done", "")
    progress("dev", "done", "")
    assert live.getvalue().endswith("dev:done checkov:scanning")  # the line stays while checkov runs
    progress("checkov", "done", "")
    assert live.getvalue().endswith("\r\x1b[2K")
