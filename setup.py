"""The build step pyproject.toml cannot say: ship the repository's policies/ inside the wheel.

`policies/` stays where reviewers and `pulumi preview --policy-pack policies` expect it, at the top
of the repository; a wheel (`pip install .`, `pipx install .`) carries a copy as
`dpaguard/_policies`, which `dpaguard.policy.SHIPPED_POLICIES` finds when a project has no policies/
of its own. An editable install reads the checkout's policies/ directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

POLICIES = Path(__file__).resolve().parent / "policies"


class BuildWithPolicies(build_py):
    """build_py, then the policy set copied into the built package (not for editable installs)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "dpaguard" / "_policies"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithPolicies})
