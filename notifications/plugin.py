"""What the `notifications` package adds to Breachdesk: tables, commands, routes, the scheduler.

Registered as the `notifications` entry point of `breachdesk.plugins` (see
incident/kernel/plugins.py). Importing this module imports nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.kernel.plugins import Plugin

if TYPE_CHECKING:
    from incident.kernel.plugins import WebContext, WebParts

PLUGIN = Plugin(
    name="notifications",
    models=("notifications.obligations.models", "notifications.drafting.models",
            "notifications.delivery.models", "notifications.reminders.models",
            "notifications.scheduler.models"),
    commands={
        "assess": "notifications.obligations.cli:assess",
        "obligations": "notifications.obligations.cli:obligations",
        "organisation": "notifications.obligations.cli:organisation",
        "regimes": "notifications.obligations.cli:regimes",
        "notifications": "notifications.drafting.cli:notifications_group",
        "outbox": "notifications.delivery.cli:outbox_group",
        "scheduler": "notifications.scheduler.cli:scheduler_group",
    },
    incident_commands={
        "assess": "notifications.obligations.cli:incidents_assess",
        "override": "notifications.obligations.cli:incidents_override",
        "milestones": "notifications.obligations.cli:incidents_milestones",
        "obligations": "notifications.obligations.cli:incidents_obligations",
        "obligation": "notifications.obligations.cli:incidents_obligation",
    },
    audit_commands={
        "register": "notifications.register.cli:register",
        "compliance": "notifications.register.cli:compliance",
        "pack": "notifications.pack.cli:pack",
    },
    web="notifications.plugin:web_parts",
)


def web_parts(context: WebContext) -> WebParts:
    """Obligations, notifications, mailbox, reminder, register and compliance routes; the
    scheduler of this process."""
    from litestar.di import Provide

    from incident.kernel.plugins import WebParts
    from incident.kernel.settings import templates_dir
    from notifications.delivery import outbox
    from notifications.delivery import pages as delivery_pages
    from notifications.drafting import api as drafting_api
    from notifications.drafting import pages as drafting_pages
    from notifications.drafting.render import renderer
    from notifications.obligations import api as obligations_api
    from notifications.pack import api as pack_api
    from notifications.register import api as register_api
    from notifications.register import pages as register_pages
    from notifications.scheduler import pages as scheduler_pages
    from notifications.scheduler import ticker as scheduler

    settings, clock, engine = context.settings, context.clock, context.engine
    mail_templates = renderer(templates_dir(settings))
    # The Mailbox holds what the embedded capture kept: only worth a link when it is in use.
    context.pages.globals["mail_captured"] = not settings.smtp_url
    running: list[tuple[scheduler.Ticker, outbox.Transport]] = []

    async def start_scheduler() -> None:
        if settings.scheduler:
            transport = outbox.transport_for(settings, engine, clock)
            ticker = scheduler.Ticker(scheduler.jobs(engine, settings, clock, mail_templates,
                                                     transport), engine=engine, clock=clock)
            running.append((ticker, transport))
            ticker.start()

    async def stop_scheduler() -> None:
        for ticker, transport in running:
            ticker.shutdown()
            await outbox.close(transport)

    return WebParts(
        route_handlers=[obligations_api.ObligationController, drafting_api.NotificationController,
                        drafting_pages.NotificationPages, delivery_pages.MailboxPages,
                        scheduler_pages.ReminderPages, register_api.RegisterController,
                        register_pages.RegisterPages, pack_api.EvidencePackController],
        dependencies={"templates": Provide(lambda: mail_templates, sync_to_thread=False),
                      # The register's and compliance report's PDFs print their pages.
                      "page_templates": Provide(lambda: context.pages, sync_to_thread=False)},
        on_startup=[start_scheduler],
        on_shutdown=[stop_scheduler],
    )
