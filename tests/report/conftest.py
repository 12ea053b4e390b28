"""The reporter tests' fixtures: hand-built Results (support/report_samples.py)."""

from __future__ import annotations

import pytest

from dpaguard.model import Result
from support.report_samples import sample_result


@pytest.fixture()
def result() -> Result:
    """The sample run (see sample_result)."""
    return sample_result()


@pytest.fixture()
def clean_result(result: Result) -> Result:
    """The same run with no findings at all."""
    return Result(tool_version=result.tool_version, policy_sha256=result.policy_sha256, stacks=result.stacks,
                  controls=result.controls, findings=(), coverage=result.coverage)
