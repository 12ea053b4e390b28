"""Address facts Rego cannot compute in regopy (no net.cidr_* builtins): is this source the internet?"""

from __future__ import annotations

import functools
import ipaddress

# A public range this wide is "the internet" for an access rule: nobody lists 16 million public
# addresses as their office. Narrower public ranges (an admin /28) are legitimate allow-lists.
_WIDEST_ALLOWED_V4 = 8
_WIDEST_ALLOWED_V6 = 16


@functools.lru_cache(maxsize=4096)
def is_internet(source: str | None) -> bool:
    """Whether a rule source admits the internet: none given, 0.0.0.0/0, ::/0, any very wide public range, or unparseable."""
    if source is None or source.strip() in ("", "*", "any", "0.0.0.0", "::"):
        return True
    try:
        network = ipaddress.ip_network(source.strip(), strict=False)
    except ValueError:
        return True  # fail closed: a source we cannot read might be anything
    widest = _WIDEST_ALLOWED_V4 if network.version == 4 else _WIDEST_ALLOWED_V6
    if network.prefixlen > widest:
        return False
    return not network.is_private


@functools.lru_cache(maxsize=4096)
def looks_like_address(text: str) -> bool:
    """Whether a string is an IP address or CIDR (so its internet-ness is worth recording)."""
    if not text or len(text) > 50 or not (text[0].isdigit() or text[0] == ":" or text[0] in "abcdefABCDEF"):
        return False
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True
