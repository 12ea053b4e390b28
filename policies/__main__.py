"""dpaguard's CrossGuard policy pack: the DPA controls of policies/dpa/controls.yaml, one policy per control.

The Pulumi engine runs this file in the pack's directory (`python -u -m pulumi.policy <engine> .`).
Resource-level controls are ResourceValidationPolicies (asked before each resource is created),
cross-resource controls StackValidationPolicies (asked with the whole stack); both are decided by
the same stages as `dpaguard check`: deployment -> normalise -> Rego engine -> findings (+ waivers).
Everything is in dpaguard.pack; settings come from `--policy-pack-config` (policy `dpaguard`),
and DPAGUARD_REPORT=<file> also writes the run's findings as `dpaguard --format json` does.
"""

from pathlib import Path

from dpaguard.pack import main

main(Path(__file__).resolve().parent)
