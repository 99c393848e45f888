"""First run: the organisation's set-up page, and the prompt every page carries until it is done.

No duty can be computed and no notice drafted without the organisation profile; a notice
also needs the address it goes out under and the contact point it names. Until the profile
has them, an admin who signs in lands on /setup (the home page sends them there) and every
page says set-up is unfinished: to admins with a link to the page, to everyone else that an
admin must finish it. The page edits the same profile later.

The form is read into the very `Profile` that `PUT /api/v1/organisation` and `breach
organisation set` validate, and saved by the same `save_profile`; what the form does not show
(targets, roles, counterparties, an authority's website...) is kept as stored. The entity
types offered are those the catalogue's duties turn on (O.C.G.A. 10-1-912(a) binds information
brokers and data collectors only). A refused form
is sent back to the page (303) too, which then shows each message beside its field and
everything as typed, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, get_args
from zoneinfo import available_timezones

from litestar import Controller, Request, Response, get, post
from litestar.enums import ScopeType
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from incident.kernel.access import requires
from incident.kernel.auth import Actor, Permission
from incident.kernel.db import session_factory
from incident.kernel.errors import Invalid
from incident.kernel.injected import Db, Now, Who
from incident.kernel.pages import held_for, render_page, send_back
from notifications.obligations import service as services
from notifications.obligations.models import OrganisationProfile
from notifications.obligations.regimes import Catalogue, Flag
from notifications.obligations.schemas import Profile, profile_public

SETUP_PATH = "/setup"
NOT_PAGES = ("/api", "/static", "/health", "/ready", "/schema")
AUTHORITY_RECIPIENTS = ("authority", "regulator")
"""The recipients whose address the profile holds: reports go to them by e-mail."""
BLANK_AUTHORITY_ROWS = 2
"""Empty authority rows the form offers besides those stored (no script needed to add one)."""
ZONES = tuple(sorted(available_timezones()))


# --- what set-up still lacks (pure) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetupState:
    """Whether the profile exists, and what every notice needs from it that it lacks."""

    missing: bool
    gaps: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing and not self.gaps


def setup_state(profile: OrganisationProfile | None) -> SetupState:
    """What stops any notice from being drafted (the same fields the drafting service asks
    for, notifications/drafting/requirements.py): the profile itself, the sender address,
    and the contact point every notice names (GDPR Art. 33(3)(b), 34(2))."""
    if profile is None:
        return SetupState(missing=True)
    gaps = []
    if not (profile.sender or {}).get("email"):
        gaps.append("the sender address (notices go out under the organisation's own address)")
    if not (profile.dpo or {}).get("email"):
        gaps.append("the DPO's e-mail address (every notice names a contact point)")
    return SetupState(missing=False, gaps=tuple(gaps))


def authority_choices(catalogue: Catalogue, stored: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The duties whose recipient the profile addresses (authorities and regulators of every
    regime in the catalogue), as (ref, label), and any key stored that the catalogue lacks."""
    found = [(f"{regime.id}/{obligation.id}", f"{regime.name}: {obligation.recipient_name}")
             for regime in catalogue for obligation in regime.obligations
             if obligation.recipient in AUTHORITY_RECIPIENTS]
    known = {ref for ref, _ in found}
    return found + [(key, key) for key in stored if key and key not in known]


def _entity_types_in(node: Any, found: set[str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("entity_types", "not_entity_types") and value:
                found.update(value)
            else:
                _entity_types_in(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _entity_types_in(value, found)


def entity_type_choices(catalogue: Catalogue, stored: str | None = None) -> list[str]:
    """The entity types the catalogue's duties turn on (`entity_types`, `not_entity_types` of
    any condition), sorted, and the one stored if the catalogue does not name it."""
    found: set[str] = set()
    for regime in catalogue:
        _entity_types_in(regime.model_dump(), found)
    if stored:
        found.add(stored)
    return sorted(found)


FRIENDLIER = {
    "country": "must be two capital letters (ISO 3166-1), as in DE",
    "email": "is not an e-mail address",
    "reply_to": "is not an e-mail address",
    "language": "must be a language tag, as in en or pt-BR",
    "entity_type": "must be lower-case letters, digits and underscores, as in data_collector",
}


def form_errors(exc: ValidationError, rows: Mapping[str, int]) -> list[dict[str, str]]:
    """The schema's refusals as (form field, message); `rows` gives each authority key's row."""
    found = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if loc[:1] == ["authorities"] and len(loc) > 1:
            loc = ["authorities", str(rows.get(loc[1], 0)), *loc[2:]]
            if loc[-1] == "[key]":
                loc[-1] = "key"
        if loc[:1] == ["flags"]:
            loc = ["flags"]
        message = FRIENDLIER.get(loc[-1], "") if error["type"] == "string_pattern_mismatch" else ""
        if error["type"] == "string_too_short" and (error.get("ctx") or {}).get("min_length") == 1:
            message = "is required"
        if not message:
            message = str(error["msg"]).removeprefix("Value error, ")
        found.append({"field": ".".join(loc) or "form", "message": message})
    return found


def service_errors(exc: Invalid, rows: Mapping[str, int]) -> list[dict[str, str]]:
    """The service's refusals, an authority's named by its row on the form."""
    found = []
    for error in exc.extensions.get("errors") or []:
        field = str(error["field"])
        if field.startswith("authorities."):
            key, _, member = field.removeprefix("authorities.").rpartition(".")
            field = f"authorities.{rows.get(key, 0)}.{member}"
        found.append({"field": field, "message": str(error["message"])})
    return found or [{"field": "form", "message": exc.detail}]


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name, ""))


def _address(text: str) -> str | None:
    return text.strip() or None


def _optional(form: Mapping[str, Any], name: str, stored: Mapping[str, Any]) -> Any:
    """A field that may be left empty (none); kept as stored when the form does not send it."""
    return _address(_text(form, name)) if name in form else stored.get(name)


def profile_from_form(form: Any, stored: dict[str, Any]
                      ) -> tuple[dict[str, Any], list[dict[str, str]], dict[str, int],
                                 list[dict[str, str]]]:
    """The profile the form describes, on top of what is stored: (the `Profile` input, the
    rows of authorities as typed, each authority key's row, the form's own refusals)."""
    errors: list[dict[str, str]] = []
    authorities: dict[str, Any] = {}
    rows: dict[str, int] = {}
    typed: list[dict[str, str]] = []
    index = 0
    while f"authorities.{index}.key" in form:
        row = {member: _text(form, f"authorities.{index}.{member}")
               for member in ("key", "name", "email")}
        typed.append(row)
        key = row["key"].strip()
        if key or row["name"].strip() or row["email"].strip():
            if not key:
                errors.append({"field": f"authorities.{index}.key",
                               "message": "choose the duty this authority receives"})
            elif key in rows:
                errors.append({"field": f"authorities.{index}.key",
                               "message": "is chosen on another row already"})
            else:
                rows[key] = index
                kept = dict((stored.get("authorities") or {}).get(key) or {})
                authorities[key] = {**kept, "name": row["name"],
                                    "email": _address(row["email"])}
        index += 1
    sender = {**(stored.get("sender") or {}), "name": _text(form, "sender.name"),
              "email": _address(_text(form, "sender.email")),
              "reply_to": _address(_text(form, "sender.reply_to"))}
    dpo = {**(stored.get("dpo") or {}), "name": _text(form, "dpo.name"),
           "email": _address(_text(form, "dpo.email")), "phone": _text(form, "dpo.phone")}
    flags = form.getall("flags", []) if hasattr(form, "getall") else form.get("flags", [])
    data = {**stored, "name": _text(form, "name"), "country": _text(form, "country").strip(),
            "timezone": _text(form, "timezone").strip(),
            "language": _text(form, "language").strip() or "en",
            "principal_place": _optional(form, "principal_place", stored),
            "entity_type": _optional(form, "entity_type", stored),
            "flags": list(flags), "sender": sender, "dpo": dpo, "authorities": authorities}
    return data, typed, rows, errors


def stored_profile(profile: OrganisationProfile | None) -> dict[str, Any]:
    """The stored profile as `Profile` input (what the form leaves as it is comes from here)."""
    if profile is None:
        return {}
    values = profile_public(profile).model_dump(mode="json")
    for name in ("updated_at", "updated_by"):
        values.pop(name, None)
    return values


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields from a profile (stored, or as typed)."""
    sender, dpo = data.get("sender") or {}, data.get("dpo") or {}
    return {"name": data.get("name", ""), "country": data.get("country", ""),
            "timezone": data.get("timezone", ""), "language": data.get("language", "en"),
            "principal_place": data.get("principal_place") or "",
            "entity_type": data.get("entity_type") or "",
            "flags": list(data.get("flags") or []),
            "sender.name": sender.get("name") or "", "sender.email": sender.get("email") or "",
            "sender.reply_to": sender.get("reply_to") or "",
            "dpo.name": dpo.get("name") or "", "dpo.email": dpo.get("email") or "",
            "dpo.phone": dpo.get("phone") or ""}


# --- the page ------------------------------------------------------------------------------------


def _page(request: Request[Any, Any, Any], *, actor: Actor, profile: OrganisationProfile | None,
          values: dict[str, Any], authorities: list[dict[str, str]],
          errors: list[dict[str, str]], status: int = 200, saved: bool = False) -> Template:
    rows = authorities + [{"key": "", "name": "", "email": ""}] * BLANK_AUTHORITY_ROWS
    catalogue = services.shipped_regimes()
    return render_page(
        request, "setup.html", status=status, profile=profile, state=setup_state(profile),
        can_manage=actor.can(Permission.MANAGE_ORGANISATION), values=values, errors=errors,
        authorities=rows, choices=authority_choices(catalogue, [r["key"] for r in authorities]),
        entity_types=entity_type_choices(catalogue, str(values.get("entity_type") or "")),
        flags=list(get_args(Flag)), zones=ZONES, saved=saved)


class SetupPages(Controller):
    path = "/"
    include_in_schema = False

    @get(SETUP_PATH, guards=[requires(Permission.READ_INCIDENTS)])
    async def setup(self, request: Request[Any, Any, Any], db: Db, clock: Now, actor: Who,
                    saved: FromQuery[bool] = False) -> Template:
        """The profile as a form for admins; for everyone else, whether set-up is done.
        After a refusal: the form as it was typed, each message beside its field."""
        held = await held_for(request, db, clock)
        profile = await services.get_profile(db)
        stored = stored_profile(profile)
        if "values" in held:
            return _page(request, actor=actor, profile=profile, values=held["values"],
                         authorities=held.get("authorities", []),
                         errors=held.get("errors", []))
        authorities = [{"key": key, "name": str(contact.get("name") or ""),
                        "email": str(contact.get("email") or "")}
                       for key, contact in (stored.get("authorities") or {}).items()]
        return _page(request, actor=actor, profile=profile, values=form_values(stored),
                     authorities=authorities, errors=[], saved=saved)

    @post(SETUP_PATH, guards=[requires(Permission.MANAGE_ORGANISATION)])
    async def save(self, request: Request[Any, Any, Any], db: Db, clock: Now,
                   actor: Who) -> Response[Any]:
        form = await request.form()
        stored = stored_profile(await services.get_profile(db))
        await db.rollback()  # the read ends here: saving opens its own transaction
        data, typed, rows, errors = profile_from_form(form, stored)
        if not errors:
            try:
                await services.save_profile(db, clock=clock, actor=actor,
                                            data=Profile.model_validate(data))
                return Redirect(f"{SETUP_PATH}?saved=true")
            except ValidationError as exc:
                errors = form_errors(exc, rows)
            except Invalid as exc:
                errors = service_errors(exc, rows)
        return await send_back(request, db, clock, f"{SETUP_PATH}#setup-errors",
                               values=form_values(data), authorities=typed, errors=errors)


# --- the prompt on every page, and the landing after sign-in --------------------------------------

_state: ContextVar[SetupState | None] = ContextVar("setup_state", default=None)


def current_setup() -> SetupState | None:
    """For the page template: the set-up state read for this request (None: not read)."""
    return _state.get()


def page_globals() -> dict[str, Any]:
    return {"setup_state": current_setup}


def setup_middleware(engine: AsyncEngine) -> Callable[[ASGIApp], ASGIApp]:
    """Before a page is shown to someone signed in: read whether set-up is done (one row).
    An admin who opens the home page (where signing in leads by default) before it is done
    goes to /setup."""
    sessions = session_factory(engine)

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            found: SetupState | None = None
            actor = scope.get("user")
            if (scope["type"] == ScopeType.HTTP and scope["method"] == "GET"
                    and not scope["path"].startswith(NOT_PAGES) and isinstance(actor, Actor)):
                async with sessions() as db:
                    found = setup_state(await services.get_profile(db))
                if (found.missing and actor.can(Permission.MANAGE_ORGANISATION)
                        and scope["path"] == "/"):
                    await Redirect(SETUP_PATH, status_code=303).to_asgi_response(
                        app=None, request=Request(scope, receive))(scope, receive, send)
                    return
            token = _state.set(found)
            try:
                await app(scope, receive, send)
            finally:
                _state.reset(token)

        return middleware

    return factory
