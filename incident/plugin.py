"""What the `incident` package adds to Breachdesk: its tables, commands, routes and hooks.

Registered as the `incident` entry point of `breachdesk.plugins` (see kernel/plugins.py).
Importing this module imports nothing heavy: the web part is built only when the app is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.kernel.plugins import Plugin

if TYPE_CHECKING:
    from incident.kernel.plugins import WebContext, WebParts

PLUGIN = Plugin(
    name="incident",
    models=("incident.accounts.models", "incident.timeline.models", "incident.lifecycle.models",
            "incident.containment.models", "incident.inventory.models", "incident.affected.models",
            "incident.audit.models", "incident.kernel.held"),
    commands={
        "users": "incident.accounts.cli:users",
        "tokens": "incident.accounts.cli:tokens",
        "incidents": "incident.lifecycle.cli:incidents",
        "runbooks": "incident.containment.cli:runbooks",
        "steps": "incident.containment.cli:steps",
        "evidence": "incident.containment.evidence_cli:evidence",
        "systems": "incident.inventory.cli:systems",
        "subjects": "incident.inventory.cli:subjects_group",
        "affected": "incident.affected.cli:affected_group",
        "audit": "incident.audit.cli:audit",
    },
    incident_commands={"runbook": "incident.containment.cli:incidents_runbook"},
    web="incident.plugin:web_parts",
    hooks={
        "incident.aware_at_changed": ("incident.containment.service:reschedule_steps",),
        "incident.page_sections": ("incident.containment.pages:incident_section",
                                   "incident.affected.pages:incident_section"),
    },
)


def web_parts(context: WebContext) -> WebParts:
    """The incident side's routes and what its handlers receive by name."""
    from litestar import Router
    from litestar.di import Provide

    from incident.accounts import api as accounts_api
    from incident.accounts import pages as accounts_pages
    from incident.accounts.sso import OidcClient
    from incident.affected import api as affected_api
    from incident.affected import pages as affected_pages
    from incident.audit import api as audit_api
    from incident.containment import api as containment_api
    from incident.containment import pages as containment_pages
    from incident.containment.runbook_loader import load_catalogue
    from incident.inventory import api as inventory_api
    from incident.inventory import pages as inventory_pages
    from incident.kernel.plugins import WebParts
    from incident.kernel.settings import runbooks_dir
    from incident.lifecycle import api as lifecycle_api
    from incident.lifecycle import pages as lifecycle_pages
    from incident.lifecycle.service import Rules

    settings = context.settings
    catalogue = context.catalogue if context.catalogue is not None else load_catalogue(
        runbooks_dir(settings))
    rules = Rules.from_settings(settings)
    sso = OidcClient(settings, context.clock) if settings.single_sign_on else None
    return WebParts(
        route_handlers=[
            lifecycle_api.IncidentController, audit_api.IncidentTimelineController,
            audit_api.AuditController, accounts_api.AccountController,
            containment_api.ContainmentController, inventory_api.InventoryController,
            affected_api.AffectedController,
            accounts_pages.SignInController, accounts_pages.AccountPages,
            accounts_pages.PeoplePages, accounts_pages.OwnCredentialPages,
            lifecycle_pages.IncidentPages, containment_pages.ContainmentPages,
            inventory_pages.InventoryPages, affected_pages.AffectedPages,
            # Evidence files may be far larger than any JSON body or form.
            Router(path="/", route_handlers=[containment_api.EvidenceController,
                                             containment_pages.EvidencePages],
                   request_max_body_size=settings.evidence_max_bytes + 65_536),
            Router(path="/", route_handlers=[inventory_api.SubjectImportController,
                                             inventory_pages.SubjectImportPages],
                   request_max_body_size=settings.import_max_bytes),
        ],
        dependencies={
            "rules": Provide(lambda: rules, sync_to_thread=False),
            "catalogue": Provide(lambda: catalogue, sync_to_thread=False),
            "sso": Provide(lambda: sso, sync_to_thread=False),
        },
        state={"catalogue": catalogue, "imports": inventory_pages.ImportRecords()},
    )
