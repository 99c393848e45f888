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
            "notifications.scheduler.models", "notifications.bounces.models",
            "notifications.webhooks.models"),
    commands={
        "assess": "notifications.obligations.cli:assess",
        "obligations": "notifications.obligations.cli:obligations",
        "organisation": "notifications.obligations.cli:organisation",
        "regimes": "notifications.obligations.cli:regimes",
        "notifications": "notifications.drafting.cli:notifications_group",
        "outbox": "notifications.delivery.cli:outbox_group",
        "scheduler": "notifications.scheduler.cli:scheduler_group",
        "bounces": "notifications.bounces.cli:bounces_group",
        "webhooks": "notifications.webhooks.cli:webhooks_group",
    },
    incident_commands={
        "assess": "notifications.obligations.cli:incidents_assess",
        "override": "notifications.obligations.cli:incidents_override",
        "confirm": "notifications.obligations.cli:incidents_confirm",
        "milestones": "notifications.obligations.cli:incidents_milestones",
        "parties": "notifications.obligations.cli:incidents_parties",
        "obligations": "notifications.obligations.cli:incidents_obligations",
        "obligation": "notifications.obligations.cli:incidents_obligation",
    },
    notification_commands={
        "not-reached": "notifications.reach.cli:not_reached",
        "reached": "notifications.reach.cli:reached",
        "letters": "notifications.reach.cli:letters",
    },
    audit_commands={
        "register": "notifications.register.cli:register",
        "compliance": "notifications.register.cli:compliance",
        "pack": "notifications.pack.cli:pack",
    },
    web="notifications.plugin:web_parts",
    hooks={"runtime.settings": ("notifications.obligations.service:regimes_for_command",),
           "incident.circumstances_changed": (
               "notifications.obligations.service:circumstances_changed",),
           "incident.page_sections": ("notifications.obligations.party_pages:incident_section",
                                      "notifications.obligations.pending:incident_section"),
           "organisation.zone": ("notifications.obligations.pending:organisation_zone",),
           "incident.next_due": ("notifications.register.service:next_due",),
           "incident.pending_duties": ("notifications.obligations.pending:pending_duties",),
           "timeline.appended": ("notifications.webhooks.service:queue_for_event",),
           "notification.page_sections": ("notifications.reach.pages:notification_section",
                                          "notifications.bounces.pages:notification_section",
                                          "notifications.drafting.authorities:"
                                          "notification_section")},
)


def web_parts(context: WebContext) -> WebParts:
    """Obligations, notifications, mailbox, reminder, register and compliance routes; the
    scheduler of this process."""
    import asyncio

    from litestar.di import Provide

    from incident.kernel.plugins import WebParts
    from incident.kernel.settings import templates_dir
    from notifications.bounces import api as bounces_api
    from notifications.delivery import outbox, trouble, workers
    from notifications.delivery import pages as delivery_pages
    from notifications.drafting import api as drafting_api
    from notifications.drafting import pages as drafting_pages
    from notifications.drafting.render import renderer
    from notifications.obligations import api as obligations_api
    from notifications.obligations import assessment_pages, coverage_pages, party_pages, setup_pages
    from notifications.obligations import service as obligation_services
    from notifications.pack import api as pack_api
    from notifications.reach import api as reach_api
    from notifications.reach import pages as reach_pages
    from notifications.register import api as register_api
    from notifications.register import pages as register_pages
    from notifications.scheduler import pages as scheduler_pages
    from notifications.scheduler import ticker as scheduler
    from notifications.webhooks import api as webhooks_api
    from notifications.webhooks import pages as webhooks_pages

    settings, clock, engine = context.settings, context.clock, context.engine
    # The regime catalogue (shipped and BREACH_REGIMES_DIR's), validated now: an invalid
    # file stops the start with RegimeError, one line per problem.
    obligation_services.configure_regimes(settings)
    obligation_services.shipped_regimes()
    mail_templates = renderer(templates_dir(settings))
    # The Mailbox holds what the embedded capture kept: only worth a link when it is in use.
    context.pages.globals["mail_captured"] = not settings.smtp_url
    # Failing delivery, on every page for those who can act (templates/web/base.html).
    context.pages.globals.update(trouble.page_globals())
    # Unfinished set-up, on every page (and the admin's landing on /setup).
    context.pages.globals.update(setup_pages.page_globals())
    running: list[tuple[scheduler.Ticker, outbox.Transport, outbox.Transport | None]] = []
    listening: list[asyncio.Server] = []

    async def start_bounce_listener() -> None:
        # BREACH_BOUNCE_LISTEN: bounces received over SMTP beside the web service.
        if settings.bounce_listen and settings.bounce_address:
            from notifications.bounces import listener

            host, port = listener.parse_listen(settings.bounce_listen)
            handler = listener.BounceHandler(engine, bounce_address=settings.bounce_address,
                                             secret=settings.secret_key, clock=clock)
            listening.append(await listener.start(handler, host, port))

    async def stop_bounce_listener() -> None:
        from notifications.bounces import listener

        for server in listening:
            await listener.stop(server, settings.shutdown_grace_seconds)
        listening.clear()
    senders: list[workers.SendingProcesses] = []

    async def start_scheduler() -> None:
        if settings.scheduler:
            transport = outbox.transport_for(settings, engine, clock)
            fallback = outbox.fallback_for(settings)
            processes = workers.how_many(settings.outbox_processes, engine.dialect.name)
            ticker = scheduler.ticker_for(settings, scheduler.jobs(
                engine, settings, clock, mail_templates, transport, fallback=fallback,
                outbox=processes == 0), engine=engine, clock=clock)
            running.append((ticker, transport, fallback))
            await ticker.begin()
            if processes:
                senders.append(workers.SendingProcesses(
                    processes, stop_within=settings.shutdown_grace_seconds + outbox.CLOSE_WITHIN
                    + 2))
                await senders[-1].start()

    async def stop_scheduler() -> None:
        # Within a few seconds (Ctrl-C, SIGTERM): what is held is released, leases end.
        stopping = [asyncio.ensure_future(processes.stop()) for processes in senders]
        for ticker, transport, fallback in running:
            await ticker.stop(settings.shutdown_grace_seconds)
            await outbox.close(transport)
            await outbox.close(fallback)
        if stopping:
            await asyncio.wait(stopping)
        running.clear()
        senders.clear()

    return WebParts(
        route_handlers=[obligations_api.ObligationController, drafting_api.NotificationController,
                        drafting_pages.NotificationPages, delivery_pages.MailboxPages,
                        scheduler_pages.ReminderPages, register_api.RegisterController,
                        register_pages.RegisterPages, pack_api.EvidencePackController,
                        assessment_pages.AssessmentPages, party_pages.PartiesPages,
                        bounces_api.BounceController, reach_api.ReachController,
                        reach_pages.ReachPages, setup_pages.SetupPages,
                        webhooks_api.WebhookController, webhooks_pages.WebhookPages,
                        coverage_pages.CoveragePages],
        dependencies={"templates": Provide(lambda: mail_templates, sync_to_thread=False),
                      # The register's and compliance report's PDFs print their pages.
                      "page_templates": Provide(lambda: context.pages, sync_to_thread=False)},
        on_startup=[start_scheduler, start_bounce_listener],
        on_shutdown=[stop_bounce_listener, stop_scheduler],
        middleware=[trouble.trouble_middleware(engine), setup_pages.setup_middleware(engine)],
    )
