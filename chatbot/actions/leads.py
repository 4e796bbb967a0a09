"""Leads: a customer who could not reach a person leaves their name and a phone number or
e-mail address for a call back, told what for and for how long (PDPA: notice and choice).
Staff read them in the inbox, each opening audited, and mark them contacted or done; they are
the customer's data like the rest: exported, erased and purged with the conversation."""

from __future__ import annotations

from dataclasses import replace

from chatbot.privacy.masking import mask, normalise_contact, normalise_phone
from chatbot.services import Services
from chatbot.store.leads import Lead, LeadDetails, LeadStatus
from knowledge.errors import KnowledgeError

MAX_NAME, MAX_MESSAGE = 100, 1000


class LeadRefused(KnowledgeError):
    """What the customer must put right; `key` names the chat's text that says so."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class NoSuchLead(KnowledgeError):
    pass


def take_lead(
    services: Services,
    bot: str,
    conversation_id: str,
    details: LeadDetails,
    language: str,
) -> int:
    """Keep what the customer left, checked; staff see in the conversation that they did."""
    name, phone, email = details.name.strip(), details.phone.strip(), details.email.strip()
    message = details.message.strip()
    if not phone and not email:
        raise LeadRefused("lead_contact_missing")
    # Read as the privacy tools read contacts: what is kept here is what `privacy find
    # --contact` finds the customer by.
    if phone and not _reads_as(phone, "phone"):
        raise LeadRefused("lead_bad_phone")
    if email and not _reads_as(email, "email"):
        raise LeadRefused("lead_bad_email")
    if len(name) > MAX_NAME or len(message) > MAX_MESSAGE:
        raise LeadRefused("too_long_lead")
    kept = LeadDetails(name, phone, email.lower(), message)
    lead_id = services.leads.add(bot, conversation_id, kept, language)
    # Found by them when the customer asks for their data (privacy find --contact).
    services.personal_data.remember_contacts(bot, conversation_id, f"{phone} {email}")
    services.desk.store.note(bot, conversation_id, "lead")
    services.audit.record("customer", "lead.create", f"{bot}: {conversation_id}")
    left = {
        "conversation": conversation_id,
        "lead": lead_id,
        "contact": partly(kept),
        "about": mask(message),
        "language": language,
    }
    services.alerts.raise_(bot, "lead.created", left, services.profile(bot).handoff.email_to)
    return lead_id


def _reads_as(text: str, kind: str) -> bool:
    contact = normalise_contact(text)
    return contact is not None and ("@" in contact) == (kind == "email")


def partly(details: LeadDetails | None) -> str:
    """The contact as a list shows it before a lead is opened: enough to tell leads apart."""
    if details is None:
        return "(cannot be read with this data directory's key)"
    shown = []
    if details.phone:
        digits = normalise_phone(details.phone)
        shown.append("•••• " + digits[-4:])
    if details.email:
        local, _, domain = details.email.partition("@")
        shown.append(f"{local[:1]}•••@{domain}")
    return ", ".join(shown)


def leads_of(services: Services, bot: str) -> list[Lead]:
    """The bot's leads, newest first, their details partly hidden (see `open_lead`)."""
    return [replace(lead, details=_hidden(lead.details)) for lead in services.leads.of_bot(bot)]


def _hidden(details: LeadDetails | None) -> LeadDetails | None:
    if details is None:
        return None
    name = details.name[:1] + "•••" if details.name else ""
    return LeadDetails(name, partly(details), "", mask(details.message))


def open_lead(services: Services, actor: str, bot: str, lead_id: int) -> Lead:
    """One lead whole, for staff to call back: audited (a customer's personal data seen)."""
    lead = services.leads.get(bot, lead_id)
    if lead is None:
        raise NoSuchLead(f"there is no lead {lead_id} of {bot!r}")
    services.audit.record(actor, "lead.open", f"{bot}: lead {lead_id}", lead.conversation_id)
    return lead


def set_lead_status(
    services: Services, actor: str, bot: str, lead_id: int, status: LeadStatus
) -> None:
    if not services.leads.set_status(bot, lead_id, status, actor):
        raise NoSuchLead(f"there is no lead {lead_id} of {bot!r}")
    services.audit.record(actor, "lead.status", f"{bot}: lead {lead_id}", status.value)
