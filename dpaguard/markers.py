"""The markers a secret or an unknown value carries, what dpaguard writes in their place, and what text it never passes to Rego.

The standard library only, on purpose: `source/_runner.py` imports this inside the program's own
process, which may be another interpreter, and must empty secrets exactly as the rest of dpaguard
recognises them.
"""

from __future__ import annotations

import re

# The Pulumi engine's marker for a value that is unknown during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# The signature key and value that mark a secret in serialized Pulumi properties and state.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# What stands in for a secret wherever one would otherwise be printed or written.
REDACTED = "[secret]"
# What replaces a plaintext value of a sensitive-named property (password, token, ...) that was not
# marked secret: the fact that it was plaintext survives (a `secrets` violation), the value does not.
PLAINTEXT_REDACTED = "[plaintext redacted]"
# Characters rego-cpp prints into JSON unescaped (a quote, a backslash, control characters): no text
# the Rego may print into a message holds them (the normaliser's facts, the URNs the embedded engine sends).
UNPRINTABLE = re.compile(r'["\\\x00-\x1f\x7f]')
