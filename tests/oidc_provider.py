"""A small OpenID Connect provider on loopback, for the single sign-on tests.

Built on authlib's server side: its authorization code grant with PKCE (RFC 7636) and its
OpenID Connect extension, which signs ID tokens with an RSA key (joserfc). It speaks real
HTTP on a free port (a threaded `http.server`): discovery, JWKS, an authorize endpoint with a
login form, and a token endpoint.

Knobs for the failure cases: `audience` (issue ID tokens for another client), `clock`
(seconds added to the provider's time, so a code expires without waiting), `hold` (show the
way back instead of taking it), and the people it knows with their groups.

Run on its own (`python -m tests.oidc_provider`), it serves a client `breachdesk` and four
people, to try single sign-on on one machine; never use it as a real provider.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, JsonRequest
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey

CODE_SECONDS = 60
"""How long an authorization code may be exchanged (RFC 6749 §4.1.2: short-lived)."""


@dataclass
class Person:
    sub: str
    email: str
    name: str
    password: str
    groups: list[str]


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in ("openid", "email", "profile",
                                                                   "groups"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    sub: str
    code_challenge: str | None
    code_challenge_method: str | None
    issued_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued_at)

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def get_code_challenge(self) -> str | None:
        return self.code_challenge

    def get_code_challenge_method(self) -> str | None:
        return self.code_challenge_method


@dataclass
class Provider:
    """The provider's state: its people, clients, codes, key, and the test's knobs."""

    url: str = ""
    people: dict[str, Person] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={
        "kid": "test-key", "use": "sig", "alg": "RS256"}))
    audience: str | None = None
    """None: ID tokens name the client that asked; else this audience (another client)."""
    clock: float = 0
    """Seconds added to the real time."""
    hold: bool = False
    """True: after its login form, show the way back (with code and state) as a link
    instead of redirecting, so a test can keep or change it."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.time() + self.clock

    def add_person(self, username: str, *, email: str, name: str, groups: list[str],
                   password: str = "provider-password") -> Person:
        person = Person(sub=f"sub-{username}", email=email, name=name, password=password,
                        groups=groups)
        self.people[username] = person
        return person

    def add_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.clients[client_id] = Client(client_id, secret, [redirect_uri])


class _Grant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    provider: Provider

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        person: Person = request.user
        with self.provider.lock:
            self.provider.codes[code] = Code(
                code=code, client_id=request.client.client_id,
                redirect_uri=data.get("redirect_uri", ""), scope=request.payload.scope or "",
                nonce=data.get("nonce"), sub=person.sub,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                issued_at=self.provider.now())

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = self.provider.codes.get(code)
        if (found is None or found.client_id != client.client_id
                or self.provider.now() > found.issued_at + CODE_SECONDS):
            return None
        return found

    def delete_authorization_code(self, authorization_code: Code) -> None:
        with self.provider.lock:
            self.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Person | None:
        return next((p for p in self.provider.people.values()
                     if p.sub == authorization_code.sub), None)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(c.nonce == nonce for c in self.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": "test-key"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.url,
                "aud": [self.provider.audience or client.client_id]}

    def get_compatible_claims(self, request: OAuth2Request) -> dict[str, Any]:
        now = int(self.provider.now())
        claims = self.get_client_claims(request.client)
        claims.update(iat=now, exp=now + 300, auth_time=now)
        return claims

    def generate_user_info(self, user: Person, scope: str) -> UserInfo:
        return UserInfo(sub=user.sub, email=user.email, email_verified=True, name=user.name,
                        groups=list(user.groups))


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, provider: Provider) -> None:
        super().__init__(scopes_supported=["openid", "email", "profile", "groups"])
        self.provider = provider
        self.register_token_generator("default", BearerTokenGenerator(
            lambda *a, **k: secrets.token_urlsafe(32)))
        grant = type("Grant", (_Grant,), {"provider": provider})
        self.register_grant(grant, [CodeChallenge(required=True), _OpenIDCode(provider)])

    def query_client(self, client_id: str) -> Client | None:
        return self.provider.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        pass

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def create_json_request(self, request: Any) -> JsonRequest:
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]
                        ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


class _Request(OAuth2Request):  # type: ignore[misc]
    """A request as authlib's grants read it: its query (GET) or form (POST) values."""

    def __init__(self, method: str, uri: str, values: dict[str, str],
                 headers: dict[str, str]) -> None:
        super().__init__(method, uri, headers=headers)
        self.values = values
        self.payload = BasicOAuth2Payload(values)

    @property
    def args(self) -> dict[str, str]:
        return self.values if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self.values if self.method == "POST" else {}


def _request(method: str, uri: str, values: dict[str, str],
             headers: dict[str, str]) -> OAuth2Request:
    return _Request(method, uri, values, headers)


LOGIN_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Test identity provider: sign in</title></head><body><main>
<h1>Test identity provider</h1>{error}
<form method="post" action="/authorize">{hidden}
<label for="username">Username</label><input id="username" name="username" autocomplete="username">
<label for="secret">Provider password</label><input id="secret" name="secret" type="password">
<button type="submit">Continue</button></form></main></body></html>"""


def _handler(provider: Provider, server: _Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: str | bytes | dict[str, Any],
                  headers: list[tuple[str, str]] | None = None,
                  content_type: str = "application/json") -> None:
            if isinstance(body, dict):
                body = json.dumps(body)
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            sent = {k.lower() for k, _ in headers or []}
            for name, value in headers or []:
                self.send_header(name, value)
            if "content-type" not in sent:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _answer(self, answer: tuple[int, Any, list[tuple[str, str]]]) -> None:
            status, body, headers = answer
            self._send(status, body if body is not None else b"", headers)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            if parts.path == "/.well-known/openid-configuration":
                self._send(200, {
                    "issuer": provider.url,
                    "authorization_endpoint": f"{provider.url}/authorize",
                    "token_endpoint": f"{provider.url}/token",
                    "jwks_uri": f"{provider.url}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                              "client_secret_post"]})
            elif parts.path == "/jwks":
                self._send(200, {"keys": [provider.key.as_dict(private=False)]})
            elif parts.path == "/authorize":
                self._login_form(query, None)
            else:
                self._send(404, {"error": "not_found"})

        def _login_form(self, query: dict[str, str], error: str | None) -> None:
            request = _request("GET", f"{provider.url}/authorize", query, dict(self.headers))
            try:
                server.get_consent_grant(request)
            except Exception as exc:
                self._send(400, f"<p>refused: {html.escape(str(exc))}</p>",
                           content_type="text/html")
                return
            hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" '
                             f'value="{html.escape(v)}">' for k, v in query.items())
            shown = f'<p role="alert">{html.escape(error)}</p>' if error else ""
            self._send(200, LOGIN_FORM.format(hidden=hidden, error=shown),
                       content_type="text/html; charset=utf-8")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            values = dict(parse_qsl(self.rfile.read(length).decode()))
            parts = urlsplit(self.path)
            headers = dict(self.headers)
            if parts.path == "/token":
                request = _request("POST", f"{provider.url}/token", values, headers)
                self._answer(server.create_token_response(request))
            elif parts.path == "/authorize":
                username = values.pop("username", "")
                secret = values.pop("secret", "")
                person = provider.people.get(username)
                if person is None or not secrets.compare_digest(person.password, secret):
                    self._login_form(values, "Unknown username or wrong password.")
                    return
                request = _request("GET", f"{provider.url}/authorize", values, headers)
                grant = server.get_consent_grant(request, end_user=person)
                status, body, answer = server.create_authorization_response(
                    request, grant_user=person, grant=grant)
                location = dict(answer).get("Location")
                if provider.hold and status == 302 and location:
                    self._send(200, f'<!doctype html><html lang="en"><title>Back</title>'
                               f'<main><a id="back" href="{html.escape(location)}">Back to the '
                               f'service</a></main></html>', content_type="text/html")
                    return
                self._answer((status, body, answer))
            else:
                self._send(404, {"error": "not_found"})

    return Handler


@contextmanager
def running_provider(port: int = 0) -> Iterator[Provider]:
    """A provider listening on loopback (a free port unless `port` is given) until the block
    ends."""
    provider = Provider()
    server = _Server(provider)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(provider, server))
    httpd.daemon_threads = True
    provider.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


PEOPLE = (("ana", "Ana Admin", ["breach-admins"]), ("rui", "Rui Responder", ["breach-responders"]),
          ("dora", "Dora DPO", ["breach-dpo"]), ("nora", "Nora Nobody", ["marketing"]))
"""Who the provider knows when run on its own: one person per mapped group, one in none."""


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.oidc_provider`: the provider on its own, to try single sign-on on one
    machine against `breach serve` (see the README's "Single sign-on"). Prints the settings
    to give `breach serve`, then serves until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.oidc_provider",
                                     description=main.__doc__)
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--service", default="http://127.0.0.1:8000",
                        help="where breach serve is reached (BREACH_BASE_URL)")
    parser.add_argument("--client-secret", default="breachdesk-client-secret")
    args = parser.parse_args(argv)
    with running_provider(args.port) as provider:
        provider.add_client("breachdesk", args.client_secret,
                            f"{args.service.rstrip('/')}/login/sso/callback")
        for username, name, groups in PEOPLE:
            provider.add_person(username, email=f"{username}@example.com", name=name,
                                groups=groups)
        print(f"Test identity provider at {provider.url}; people (password "
              f"'provider-password'): "
              + ", ".join(f"{u} ({', '.join(g)})" for u, _, g in PEOPLE), flush=True)
        print(f"BREACH_BASE_URL={args.service.rstrip('/')}\n"
              f"BREACH_OIDC_ISSUER={provider.url}\n"
              "BREACH_OIDC_CLIENT_ID=breachdesk\n"
              f"BREACH_OIDC_CLIENT_SECRET={args.client_secret}\n"
              "BREACH_OIDC_ROLES=breach-admins:admin,breach-responders:responder,"
              "breach-dpo:approver", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
