"""Single sign-on: this service as an OpenID Connect client of the organisation's provider.

The authorization code flow with PKCE (RFC 7636, S256), a `state` that ties the answer to
the browser that asked, and a `nonce` that ties the ID token to it. The provider is found by
discovery (`{issuer}/.well-known/openid-configuration`); the ID token is verified here: its
signature by the provider's JWKS (fetched again once when a key id is unknown, so a key
rotation needs no restart), `iss`, `aud` (and `azp` when several audiences), `exp`, `iat`
and `nonce`, with a minute of leeway against clock skew. authlib builds the authorization
address and the PKCE challenge, httpx exchanges the code (client_secret_basic), joserfc
checks the token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from incident.kernel.clock import Clock
from incident.kernel.settings import Settings

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA"]
"""Asymmetric signatures only: never `none`, never an HMAC keyed with the client secret."""
LEEWAY_SECONDS = 60
TIMEOUT = httpx.Timeout(10)


class SsoRefused(Exception):
    """A sign-in with the provider that did not succeed: `reason` is a short code kept on the
    timeline (state, provider, code, token, unreachable), the message is for the person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Pending:
    """What the browser carries (signed) between leaving for the provider and coming back."""

    state: str
    nonce: str
    verifier: str
    next: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in, from a verified ID token."""

    subject: str
    email: str
    email_verified: bool
    name: str
    claims: dict[str, Any]


class OidcClient:
    """One provider, discovered on first use and kept (its keys refreshed on an unknown kid)."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.redirect_uri = f"{settings.links_to}/login/sso/callback"
        self.clock = clock
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def _discover(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            metadata = await self._get_json(url)
            # OpenID Connect Discovery 1.0 §4.3: the issuer it names must be the one asked.
            if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
                raise SsoRefused("unreachable", "The identity provider's discovery document "
                                 "names another issuer; check BREACH_OIDC_ISSUER.")
            self._metadata = metadata
        return self._metadata

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                answer = await http.get(url)
                answer.raise_for_status()
                body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SsoRefused("unreachable", "The identity provider could not be reached; "
                             "try again in a moment.") from exc
        if not isinstance(body, dict):
            raise SsoRefused("unreachable", "The identity provider answered with something "
                             "other than its settings.")
        return body

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            metadata = await self._discover()
            try:
                self._keys = KeySet.import_key_set(await self._get_json(str(
                    metadata["jwks_uri"])))  # type: ignore[arg-type]
            except (KeyError, ValueError, JoseError) as exc:
                raise SsoRefused("unreachable", "The identity provider's signing keys could "
                                 "not be read.") from exc
        return self._keys

    async def begin(self, next_path: str) -> tuple[str, Pending]:
        """Where to send the browser, and what it must bring back."""
        metadata = await self._discover()
        pending = Pending(state=generate_token(32), nonce=generate_token(32),
                          verifier=generate_token(64), next=next_path)
        url = prepare_grant_uri(
            str(metadata["authorization_endpoint"]), self.client_id, "code",
            redirect_uri=self.redirect_uri, scope="openid email profile", state=pending.state,
            nonce=pending.nonce, code_challenge=create_s256_code_challenge(pending.verifier),
            code_challenge_method="S256")
        return str(url), pending

    async def _exchange(self, token_endpoint: str, code: str, verifier: str) -> dict[str, Any]:
        """The code for tokens (RFC 6749 §4.1.3), the client authenticated by HTTP Basic with
        its form-encoded id and secret (§2.3.1)."""
        basic = (quote(self.client_id, safe=""), quote(self.client_secret, safe=""))
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                answer = await http.post(token_endpoint, auth=basic, data={
                    "grant_type": "authorization_code", "code": code,
                    "redirect_uri": self.redirect_uri, "code_verifier": verifier},
                    headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise SsoRefused("unreachable", "The identity provider could not be reached; "
                             "try again in a moment.") from exc
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SsoRefused("unreachable", "The identity provider answered the sign-in code "
                             "with something other than tokens.")
        if answer.status_code == 400 and body.get("error") == "invalid_grant":
            raise SsoRefused("code", "The identity provider refused the sign-in code: it "
                             "expired or was used already. Start again.")
        if answer.status_code != 200:
            raise SsoRefused("provider", "The identity provider refused to complete the "
                             f"sign-in ({str(body.get('error', answer.status_code))[:60]}); "
                             "check this service's client id and secret there.")
        return body

    async def finish(self, *, pending: Pending, state: str, code: str) -> Identity:
        """Check the state, exchange the code (with the PKCE verifier), verify the ID token."""
        if not state or not secrets.compare_digest(state.encode(), pending.state.encode()):
            raise SsoRefused("state", "The sign-in did not come back to the browser that "
                             "started it (its state does not match). Start again.")
        metadata = await self._discover()
        token = await self._exchange(str(metadata["token_endpoint"]), code, pending.verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SsoRefused("token", "The identity provider sent no ID token.")
        claims = await self.verify(id_token, nonce=pending.nonce)
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise SsoRefused("token", "The identity provider did not say your e-mail address; "
                             "ask its administrator to release the email claim.")
        name = claims.get("name")
        return Identity(subject=str(claims["sub"]), email=email,
                        email_verified=claims.get("email_verified") is True,
                        name=name if isinstance(name, str) else "", claims=claims)

    async def verify(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of a verified ID token (OpenID Connect Core 1.0 §3.1.3.7)."""
        keys = await self._key_set()
        try:
            try:
                decoded = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            except (ValueError, JoseError):
                decoded = jwt.decode(id_token, await self._key_set(refresh=True),
                                     algorithms=ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                now=lambda: int(self.clock.now().timestamp()), leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                sub={"essential": True},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True}, iat={"essential": True},
                nonce={"essential": True, "value": nonce})
            registry.validate(decoded.claims)
        except (ValueError, JoseError) as exc:
            raise SsoRefused("token", "The identity provider's ID token was not accepted "
                             f"({_why(exc)}).") from exc
        claims = dict(decoded.claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SsoRefused("token", "The identity provider's ID token was issued to another "
                             "party (azp).")
        return claims


def _why(exc: Exception) -> str:
    """A short reason from joserfc's error: its claim name or kind, never the token."""
    text = str(exc) or type(exc).__name__
    return text[:120]
