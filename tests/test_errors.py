"""The error hierarchy (dpaguard/errors.py): one line for the user, a context phrase in front, the kind kept."""

from __future__ import annotations

import pytest

from dpaguard.errors import DpaguardError, EngineError, InputError, OutputError, PolicyError, ProgramError, UsageError


@pytest.mark.parametrize("kind", [UsageError, InputError, ProgramError, PolicyError, EngineError, OutputError])
def test_every_error_the_user_can_cause_is_caught_as_the_one_base(kind: type[DpaguardError]) -> None:
    with pytest.raises(DpaguardError):
        raise kind("boom")


def test_one_line_folds_every_run_of_whitespace_and_adds_the_hint() -> None:
    error = EngineError("OPA server\nhttp://127.0.0.1:9:\t refused   the query", hint="is the OPA server running?")
    assert error.one_line() == "OPA server http://127.0.0.1:9: refused the query (is the OPA server running?)"
    assert "\n" not in error.one_line()
    assert InputError("  no  hint \r\n").one_line() == "no hint"


def test_wrap_puts_the_context_in_front_and_keeps_the_kind_and_the_hint() -> None:
    error = ProgramError("program did not finish within 3 s", hint="see --timeout")
    wrapped = error.wrap("render stack prod")
    assert type(wrapped) is ProgramError
    assert str(wrapped) == "render stack prod: program did not finish within 3 s"
    assert wrapped.one_line() == "render stack prod: program did not finish within 3 s (see --timeout)"
    assert str(error) == "program did not finish within 3 s"  # the original is unchanged
    assert str(wrapped.wrap("check")) == "check: render stack prod: program did not finish within 3 s"


def test_a_subclass_with_its_own_constructor_can_be_wrapped() -> None:
    class Refused(PolicyError):
        def __init__(self, path: str) -> None:
            super().__init__(f"{path}: refused")

    wrapped = Refused("policies/dpa/controls.yaml").wrap("load policies")
    assert isinstance(wrapped, Refused) and str(wrapped) == "load policies: policies/dpa/controls.yaml: refused"
