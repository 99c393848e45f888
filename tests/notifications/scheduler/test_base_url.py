"""BREACH_BASE_URL: the links in reminders go where people reach the service. Unset, that is
where `breach serve` listens (its --host and --port); set, it wins (a proxy, HTTPS)."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from incident.kernel.settings import Settings, served_at, serving


def test_unset_the_links_go_to_the_address_breach_serve_listens_on() -> None:
    plain = Settings(base_url="")
    assert plain.links_to == "http://127.0.0.1:8000"  # `breach serve` without options
    assert serving(plain, "127.0.0.1", 8123).links_to == "http://127.0.0.1:8123"
    assert serving(plain, "localhost", 9000).base_url == "http://localhost:9000"


def test_every_interface_is_this_machines_name_and_ipv6_is_bracketed() -> None:
    assert served_at("0.0.0.0", 8080) == f"http://{socket.getfqdn()}:8080"
    assert served_at("::", 8080) == f"http://{socket.getfqdn()}:8080"
    assert served_at("::1", 8080) == "http://[::1]:8080"


def test_set_it_wins_over_the_listening_address() -> None:
    behind_a_proxy = Settings(base_url="https://breach.example.com/")
    assert behind_a_proxy.base_url == "https://breach.example.com"  # no trailing slash
    assert serving(behind_a_proxy, "127.0.0.1", 8123).links_to == "https://breach.example.com"


@pytest.mark.parametrize("bad", ["breach.example.com", "ftp://breach.example.com", "https://",
                                 "https://breach example.com"])
def test_anything_but_an_http_address_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="an http"):
        Settings(base_url=bad)
