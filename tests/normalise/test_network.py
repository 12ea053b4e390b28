"""Which rule sources admit the internet (regopy has no net.cidr_*)."""

from __future__ import annotations

import pytest

from dpaguard.normalise.network import is_internet


@pytest.mark.parametrize("source", [None, "", "0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "8.0.0.0/8", "2000::/3", "not-a-cidr"])
def test_internet(source: str | None) -> None:
    assert is_internet(source)


@pytest.mark.parametrize("source", ["10.0.0.0/8", "172.16.0.0/12", "203.0.113.16/28", "198.51.100.7", "fd00::/8", "2001:db8::/48"])
def test_not_internet(source: str) -> None:
    assert not is_internet(source)
