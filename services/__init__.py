"""Use cases (service layer): each opens its own transaction on the Database, applies the
ticket rules, appends events and queues outgoing messages via the Presenter."""

from services.actions import (
    accept,
    assign,
    attach_photo,
    cancel,
    close_unrated,
    edit_report,
    escalate,
    merge,
    progress,
    rate,
    reject,
    reopen,
    resolve,
    split,
    split_supporter,
    transfer,
)
from services.actors import resolve_actor
from services.intake import IncomingReport, IntakeResult, report_received, report_received_many
from services.presenter import Contact, Presenter, RenderContext
from services.queries import (
    digest,
    grid_open_tickets,
    my_open_tickets,
    overdue_tickets,
    supporters_of,
    ticket_by_id,
    ticket_by_number,
    tickets_needing_followup,
    tickets_of_reporter,
    tickets_to_close_unrated,
    timeline,
)
from services.retention import purge_personal_data
from services.service import TicketService

__all__ = [
    "Contact",
    "IncomingReport",
    "IntakeResult",
    "Presenter",
    "RenderContext",
    "TicketService",
    "accept",
    "assign",
    "attach_photo",
    "cancel",
    "close_unrated",
    "digest",
    "edit_report",
    "escalate",
    "grid_open_tickets",
    "merge",
    "my_open_tickets",
    "overdue_tickets",
    "progress",
    "purge_personal_data",
    "rate",
    "reject",
    "reopen",
    "report_received",
    "report_received_many",
    "resolve",
    "resolve_actor",
    "split",
    "split_supporter",
    "supporters_of",
    "ticket_by_id",
    "ticket_by_number",
    "tickets_needing_followup",
    "tickets_of_reporter",
    "tickets_to_close_unrated",
    "timeline",
    "transfer",
]
