"""The Inbox tab (every staff member: they are who answers customers): the conversations
waiting for a person first, with how long each has waited, then those a person has, then those
live with the bot; one opened to read whole (audited), reply, take over, hand back or close,
a pinned answer reused as a quick reply; the leads customers left for a call back, each opened
for its contact details (audited) and marked contacted or done. It reads itself again every few
seconds, and while it is open the bot tells customers asking for a person that someone will
answer now."""

from __future__ import annotations

import html
import time
from typing import Any

import gradio as gr

from chatbot.actions.alerts import add_webhook, deliveries_of, remove_webhook, webhooks_of
from chatbot.actions.inbox import (
    Entry,
    close,
    hand_back,
    inbox,
    read_conversation,
    reply,
    take_over,
)
from chatbot.actions.leads import leads_of, open_lead, set_lead_status
from chatbot.inbox.alerts import EVENTS
from chatbot.store.accounts import Role
from chatbot.store.inbox import Standing, State
from chatbot.store.leads import LeadStatus
from chatbot.store.personal_data import ConversationRef
from chatbot.web.console.common import (
    Console,
    confirmation,
    confirmed,
    md_address,
    md_text,
    refusal,
    told_to_staff,
    warning,
    when,
)
from chatbot.web.console.whatsapp import sentence, whatsapp_section, window_note
from knowledge.errors import KnowledgeError

REFRESH_S = 5.0
_LANGUAGE_NAMES = {"en": "English", "ms": "Malay", "zh": "Chinese"}
_STATE_LABELS = {
    State.WAITING: "waiting for a person",
    State.STAFF: "with a person",
    State.BOT: "with the bot",
}
_WHO = {"customer": "Customer", "bot": "Bot", "staff": "Staff"}
DELIVERY_COLUMNS = ["#", "when", "event", "by", "to", "state", "tries", "outcome"]
WEBHOOK_COLUMNS = ["#", "address", "events", "added by"]
# Each browser tells its staff member when more customers wait than it last showed (with the
# permission they gave it): the count arrives with the list, every few seconds.
_NOTIFY_JS = """(text) => {
  const count = (what) => {
    const found = (text || "").match(new RegExp("(\\\\d+) " + what));
    return found ? parseInt(found[1], 10) : 0;
  };
  const now = {waiting: count("waiting"), leads: count("new lead")};
  const before = window.__chatbotInbox || {waiting: 0, leads: 0};
  window.__chatbotInbox = now;
  const granted = "Notification" in window && Notification.permission === "granted";
  if (granted && now.waiting > before.waiting) {
    new Notification("A customer is waiting for a person", {body: now.waiting + " in the Inbox"});
  }
  if (granted && now.leads > before.leads) {
    new Notification("A customer asked to be contacted", {body: now.leads + " new in Leads"});
  }
  return [];
}"""
_ASK_JS = """() => {
  if ("Notification" in window) Notification.requestPermission();
  return [];
}"""
LEAD_COLUMNS = ["#", "when", "status", "name", "contact", "about", "conversation"]
_EVENTS = {
    "lead": "The customer left their contact details for a call back (see Leads).",
    "waiting": "Waiting for a person.",
    "joined": "joined the conversation",
    "handed_back": "The bot answers again.",
    "closed": "Closed.",
}


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def _label(standing: Standing, now: float, words: str, number: str = "") -> str:
    """How a conversation is listed: its state, the customer's latest words (masked as kept),
    and its reference's start, or for WhatsApp the end of the customer's number (the whole of
    it shows when the conversation is opened, which is audited)."""
    state = _STATE_LABELS.get(standing.state, standing.state.value)
    reference = f"WhatsApp …{number[-4:]}" if number else standing.conversation_id[:8]
    said = f" · “{words[:60]}{'…' if len(words) > 60 else ''}”" if words else ""
    if standing.state is State.WAITING:
        why = "asked for a person" if standing.reason == "asked" else "the bot could not help"
        return f"{state} {_ago(now - standing.since)} ({why}){said} · {reference}"
    if standing.state is State.STAFF:
        return f"{state}: {standing.staff}{said} · {reference}"
    return f"{state}, last active {when(standing.updated_at)}{said} · {reference}"


def conversation_html(entries: list[Entry]) -> str:
    """Who said what, every word of theirs escaped (see conversations.transcript_html)."""
    parts = []
    for entry in entries:
        at = when(entry.at)[11:] if entry.at else ""
        if entry.who == "event":
            what = _EVENTS.get(entry.text, entry.text)
            if entry.text.startswith("media:"):  # chatbot/whatsapp: what the bot cannot read
                what = (
                    f"The customer sent a WhatsApp {entry.text[6:]} message, which neither the"
                    " bot nor this inbox can open; they were asked to type instead."
                )
            who = f"{entry.name} " if entry.text == "joined" and entry.name else ""
            if entry.text == "joined" and not who:
                who = "A staff member "
            parts.append(
                f'<p class="inbox-event"><em>{html.escape(at)} {html.escape(who + what)}</em></p>'
            )
            continue
        name = _WHO.get(entry.who, entry.who)
        if entry.who == "staff" and entry.name:
            name = f"{name} ({entry.name})"
        parts.append(
            f'<div class="inbox-{html.escape(entry.who)}"><p><strong>{html.escape(name)}</strong>'
            f" <small>{html.escape(at)}</small></p>"
            f'<p style="white-space:pre-wrap">{html.escape(entry.text)}</p></div>'
        )
    return "".join(parts) or "<p>Nothing said yet.</p>"


def inbox_tab(console: Console, bot: gr.Dropdown, badge: gr.Markdown) -> Any:
    """The tab; `badge`, above every tab, says how many wait for a person."""
    services = console.services

    def listed(bot: str, _open: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        # `_open` unused: the list's events carry the open conversation too, so that none of
        # them looks like the one that loads the bot's settings (what tests hold back by it).
        console.staff(request, bot)
        if not bot:
            return "", "", gr.update(choices=[])
        services.desk.presence.seen(bot)  # someone is here to answer
        now = time.time()
        queue = inbox(services, bot)
        waiting = sum(s.state is State.WAITING for s in queue)
        summary = (
            f"### 🔔 {waiting} waiting for a person"
            if waiting
            else "No one is waiting for a person."
        )
        listed_ids = [s.conversation_id for s in queue]
        words = services.desk.store.last_words(bot, listed_ids)
        numbers = services.whatsapp.store.on_whatsapp(bot, listed_ids)
        choices = [
            (
                _label(
                    s, now, words.get(s.conversation_id, ""), numbers.get(s.conversation_id, "")
                ),
                s.conversation_id,
            )
            for s in queue
        ]
        fresh = services.leads.count_new(bot)
        told = [f"{waiting} waiting for a person"] if waiting else []
        told += [f"{fresh} new lead{'' if fresh == 1 else 's'}"] if fresh else []
        shown = f"**🔔 {' · '.join(told)}** (Inbox)" if told else ""
        return summary, shown, gr.update(choices=choices)

    def shown(
        bot: str, conversation: str | None, audit: bool, request: gr.Request
    ) -> tuple[str, str]:
        account = console.staff(request, bot)
        if not bot or not conversation:
            return "", ""
        ref = ConversationRef(bot, conversation)
        with told_to_staff():
            standing, entries = read_conversation(services, account.username, ref, audit=audit)
        state = standing.state if standing else State.BOT
        where = _STATE_LABELS.get(state, state.value)
        if standing is not None and state is State.STAFF:
            where += f": {standing.staff}"
        on_whatsapp = md_text(window_note(console, bot, conversation))
        return f"**{sentence(where)}**{on_whatsapp}", conversation_html(entries)

    def opened(bot: str, conversation: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        return shown(bot, conversation, True, request)

    def again(bot: str, conversation: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        return shown(bot, conversation, False, request)

    def act(what: str):  # type: ignore[no-untyped-def]
        def run(bot: str, conversation: str | None, text: str, request: gr.Request):  # type: ignore[no-untyped-def]
            account = console.staff(request, bot)
            if not conversation:
                raise refusal("Choose a conversation first.")
            ref = ConversationRef(bot, conversation)
            with told_to_staff():
                if what == "reply":
                    reply(services, account.username, ref, text or "")
                elif what == "take":
                    take_over(services, account.username, ref)
                elif what == "hand_back":
                    hand_back(services, account.username, ref)
                else:
                    close(services, account.username, ref)
            state, body = shown(bot, conversation, False, request)
            return state, body, "" if what == "reply" else text

        return run

    def quick(bot: str, _open: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        pins = services.pins.all(bot) if bot else []
        return gr.update(choices=[(p.question, p.answer) for p in pins], value=None)

    def lead_rows(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        rows = [
            [
                lead.id,
                when(lead.created_at),
                lead.status.value,
                lead.details.name if lead.details else "",
                lead.details.phone if lead.details else "",  # partly hidden: see leads_of
                lead.details.message if lead.details else "",
                lead.conversation_id[:8],
            ]
            for lead in (leads_of(services, bot) if bot else [])
        ]
        return rows, gr.update(choices=[(f"#{r[0]} {r[3]} · {r[1]}", r[0]) for r in rows])

    def lead_opened(bot: str, lead_id: int | None, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        if lead_id is None:
            raise refusal("Choose a lead first.")
        with told_to_staff():
            lead = open_lead(services, account.username, bot, int(lead_id))
        if lead.details is None:
            return "Its details cannot be read with this data directory's key.", lead.status.value
        d = lead.details
        lines = [
            f"**{html.escape(d.name) or '(no name)'}** · {when(lead.created_at)}"
            f" · call back in {_LANGUAGE_NAMES.get(lead.language, lead.language)}",
            f"Phone: {html.escape(d.phone)}" if d.phone else "",
            f"E-mail: {html.escape(d.email)}" if d.email else "",
            f"About: {html.escape(d.message)}" if d.message else "",
            f"Conversation: `{lead.conversation_id}`",
        ]
        return "\n\n".join(line for line in lines if line), lead.status.value

    def lead_status(bot: str, lead_id: int | None, status: str, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        if lead_id is None:
            raise refusal("Choose a lead first.")
        with told_to_staff():
            set_lead_status(services, account.username, bot, int(lead_id), LeadStatus(status))
        return lead_rows(bot, request)

    def hook_rows(bot: str, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot)
        hooks = webhooks_of(services, bot) if bot else []
        sent = deliveries_of(services, bot, 20) if bot else []
        return (
            [[h.id, h.url, ", ".join(h.events), h.created_by] for h in hooks],
            [
                [
                    d.id,
                    when(d.created_at),
                    d.event,
                    d.channel,
                    d.target,
                    d.state,
                    d.attempts,
                    d.outcome,
                ]
                for d in sent
            ],
        )

    def hook_added(bot: str, url: str, events: list[str], request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        try:
            hook_id, secret = add_webhook(
                services, account.username, account.role, bot, url or "", list(events or [])
            )
        except KnowledgeError as exc:  # said beside the form; the tables stay as they were
            return warning(exc), gr.update(), gr.update()
        said = (
            f"Webhook {hook_id} added. Its signing secret, shown this once (put it in the"
            f" receiver to check each post's X-Chatbot-Signature):\n\n`{secret}`"
        )
        return (said, *hook_rows(bot, request))

    def ask_hook_removal(bot: str, hook_id: float | None, request: gr.Request):  # type: ignore[no-untyped-def]
        console.staff(request, bot, Role.OWNER)  # an owner's, as adding one is
        hook = next((h for h in webhooks_of(services, bot) if h.id == int(hook_id or 0)), None)
        if hook is None:
            raise refusal("Type the number of one of the bot's webhooks (the # column).")
        return dropping_hook.ask(
            f"**Remove webhook {hook.id}** ({md_address(hook.url)})? Alerts of"
            f" {md_text(bot)} stop going there; what it was sent before stays with it.",
            (bot, hook.id),
        )

    def hook_removed(bot: str, target: Any, request: gr.Request):  # type: ignore[no-untyped-def]
        account = console.staff(request, bot)
        hook_id = confirmed(target, bot)
        if hook_id is None:
            return dropping_hook.nothing(3)
        try:
            remove_webhook(services, account.username, account.role, bot, int(hook_id))
        except KnowledgeError as exc:
            return dropping_hook.done(warning(exc), gr.skip(), gr.skip())
        return dropping_hook.done(f"Webhook {int(hook_id)} removed.", *hook_rows(bot, request))

    with gr.Tab("Inbox") as tab:
        summary = gr.Markdown()
        notify = gr.Button("Notify me in this browser when a customer waits", size="sm")
        conversation = gr.Dropdown(label="Conversation", choices=[], interactive=True)
        state = gr.Markdown()
        body = gr.HTML()  # built by conversation_html: every word escaped
        quick_reply = gr.Dropdown(
            label="Quick reply (a pinned answer)", choices=[], interactive=True
        )
        text = gr.Textbox(label="Your reply", lines=3, placeholder="Write to the customer…")
        with gr.Row():
            send = gr.Button("Send", variant="primary")
            take = gr.Button("Take over")
            back = gr.Button("Hand back to the bot")
            done = gr.Button("Close")
        with gr.Accordion("Leads: customers who asked to be contacted", open=False) as leads:
            lead_table = gr.Dataframe(
                wrap=True,
                headers=LEAD_COLUMNS,
                column_widths=["6%", "14%", "10%", "16%", "16%", "26%", "12%"],
                interactive=False,
            )
            with gr.Row():
                lead_chosen = gr.Dropdown(label="Lead", choices=[], scale=3)
                open_it = gr.Button("Show contact details", scale=1)
            lead_details = gr.Markdown()
            with gr.Row():
                status = gr.Radio([s.value for s in LeadStatus], label="Status", scale=3)
                save_status = gr.Button("Save status", scale=1)
        with gr.Accordion("Alerts: e-mail and webhooks", open=False) as alerts:
            gr.Markdown(
                "Staff in the bot's *Handoff to a person* e-mail list are e-mailed when a"
                " customer waits and when one leaves a contact. Webhooks post the bot's events,"
                " signed, to your own tools; each post's signature and what it holds are described"
                " in the product's INBOX guide. Adding or removing one is an owner's."
            )
            hook_table = gr.Dataframe(wrap=True, headers=WEBHOOK_COLUMNS, interactive=False)
            with gr.Row():
                hook_url = gr.Textbox(label="Webhook address (https://…)", scale=3)
                hook_events = gr.CheckboxGroup(list(EVENTS), value=list(EVENTS), label="Events")
            with gr.Row():
                add_hook = gr.Button("Add webhook")
                hook_number = gr.Number(label="Webhook #", precision=0)
                drop_hook = gr.Button("Remove webhook")
            dropping_hook = confirmation("Yes, remove the webhook", bot)
            hook_said = gr.Markdown()
            delivery_table = gr.Dataframe(
                wrap=True,
                headers=DELIVERY_COLUMNS,
                column_widths=["6%", "14%", "14%", "10%", "20%", "10%", "8%", "18%"],
                label="Latest deliveries",
                interactive=False,
            )
        whatsapp_section(console, bot)
    # While the console is open, it keeps the list and the open conversation current.
    timer = gr.Timer(REFRESH_S)

    parts = [bot, conversation, text]
    chosen = [bot, conversation]
    listing = [summary, badge, conversation]
    timer.tick(listed, chosen, listing).then(again, chosen, [state, body])
    tab.select(listed, chosen, listing).then(quick, chosen, quick_reply)
    bot.change(listed, chosen, listing)
    badge.change(None, badge, None, js=_NOTIFY_JS)
    notify.click(None, None, None, js=_ASK_JS)
    alerts.expand(hook_rows, bot, [hook_table, delivery_table])
    add_hook.click(
        hook_added, [bot, hook_url, hook_events], [hook_said, hook_table, delivery_table]
    )
    drop_hook.click(ask_hook_removal, [bot, hook_number], dropping_hook.asked)
    dropping_hook.yes.click(
        hook_removed,
        [bot, dropping_hook.target],
        [hook_said, hook_table, delivery_table, *dropping_hook.asked],
    )
    conversation.input(opened, [bot, conversation], [state, body])
    quick_reply.input(lambda answer: answer or "", quick_reply, text)
    leads.expand(lead_rows, bot, [lead_table, lead_chosen])
    open_it.click(lead_opened, [bot, lead_chosen], [lead_details, status])
    save_status.click(lead_status, [bot, lead_chosen, status], [lead_table, lead_chosen])
    send.click(act("reply"), parts, [state, body, text])
    text.submit(act("reply"), parts, [state, body, text])
    take.click(act("take"), parts, [state, body, text])
    back.click(act("hand_back"), parts, [state, body, text])
    done.click(act("close"), parts, [state, body, text])
    return tab
