"""Each delivery's return path names it, and only a return path made under our key does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from notifications.delivery.return_paths import delivery_of, return_path

ADDRESS = "bounces@example.com"
KEY = "k" * 43


@given(st.integers(min_value=1, max_value=10**18 - 1))
def test_a_return_path_names_its_delivery(delivery_id: int) -> None:
    path = return_path(delivery_id, bounce_address=ADDRESS, secret=KEY)
    assert path.startswith(f"bounces+b{delivery_id}-") and path.endswith("@example.com")
    assert delivery_of(path, bounce_address=ADDRESS, secret=KEY) == delivery_id
    # Servers may change the letter case; angle brackets come from envelopes.
    assert delivery_of(f"<{path.upper()}>", bounce_address=ADDRESS, secret=KEY) == delivery_id


def test_a_forged_or_foreign_return_path_names_nothing() -> None:
    path = return_path(42, bounce_address=ADDRESS, secret=KEY)
    local, _, domain = path.partition("@")
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    for address in (forged,
                    path.replace("b42-", "b43-"),  # another delivery, the same MAC
                    path.replace("example.com", "example.org"),
                    path.replace("bounces+", "other+"),
                    "bounces@example.com", "bounces+@example.com", "not an address", "",
                    "bounces+b42@example.com"):
        assert delivery_of(address, bounce_address=ADDRESS, secret=KEY) is None, address
    assert delivery_of(path, bounce_address=ADDRESS, secret="another key") is None


def test_a_bounce_address_with_its_own_tag_still_names_the_delivery() -> None:
    address = "mail+bounces@example.com"
    path = return_path(7, bounce_address=address, secret=KEY)
    assert path.startswith("mail+bounces+b7-")
    assert delivery_of(path, bounce_address=address, secret=KEY) == 7
    assert delivery_of(path, bounce_address="mail@example.com", secret=KEY) is None
