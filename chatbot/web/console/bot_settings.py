"""The "Bot settings" tab: one form whose fields are named as BotProfile's own (limits and the
privacy notice by dotted path), filled from the chosen bot's profile or, with none chosen, from
BotProfile's defaults, and saved as the fields that changed."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

import gradio as gr
from pydantic import BaseModel

from chatbot.actions.bots import OWNER_ONLY, change_bot, what_goes
from chatbot.inbox.hours import DAYS, WEEKDAYS
from chatbot.llm.select import ollama_models
from chatbot.privacy.notice import DEFAULT_NOTICES
from chatbot.settings import BotHandoff, BotLimits, BotProfile, BusinessHours
from chatbot.store.accounts import Role
from chatbot.web.console.common import Console, refusal
from chatbot.web.snippets import embed_snippets
from knowledge.errors import KnowledgeError

DEPLOYMENT_MODEL = "(the deployment's model)"
NOTICE_LANGUAGES: tuple[Literal["en", "ms", "zh"], ...] = ("en", "ms", "zh")
_NOTICE_NAMES = {"en": "English", "ms": "Malay", "zh": "Chinese"}
# Lists written one item a line.
_LINES = ("suggestions", "allowed_origins", "business_hours.closed_on", "handoff.email_to")


def _default_notice(language: Literal["en", "ms", "zh"]) -> str:
    return DEFAULT_NOTICES[language].format(business="<business name>", days="<days>")


_SECTIONS: dict[str, type[BaseModel]] = {
    "limits": BotLimits,
    "handoff": BotHandoff,
    "business_hours": BusinessHours,
}
_DAY_NAMES = dict(zip(DAYS, WEEKDAYS["en"], strict=True))


def _states() -> list[tuple[str, str]]:
    """Malaysia's states as the `holidays` package names them, by their three-letter codes."""
    from holidays.countries.malaysia import Malaysia

    names: dict[str, str] = {}
    codes: dict[str, str] = {}
    for alias, code in Malaysia.subdivisions_aliases.items():
        if len(alias) == 3 and alias.isupper():
            codes[code] = alias
        else:
            names[code] = alias
    return sorted((names[code], codes[code]) for code in codes)


def _field(key: str) -> Any:
    """BotProfile's field for a form key ("limits.max_turns": BotLimits' own)."""
    head, _, rest = key.partition(".")
    if head in _SECTIONS:
        return _SECTIONS[head].model_fields[rest]
    return BotProfile.model_fields[head]


def _field_type(key: str) -> Any:
    return _field(key).annotation


def _default(key: str) -> Any:
    return _field(key).default


def _value_of(profile: dict[str, Any], key: str) -> Any:
    if key.startswith("privacy_notice."):
        return profile["privacy_notice"].get(key.split(".", 1)[1], "")
    value: Any = profile
    for part in key.split("."):
        value = value[part]
    return value


def _shown(key: str, value: Any) -> Any:
    """A profile value as its form field shows it."""
    if key in _LINES:
        return "\n".join(value)
    if key == "languages":
        return list(value)
    return value


def _read(key: str, value: Any) -> Any:
    """What staff entered in a field, as the profile stores it."""
    if key in _LINES:
        return [line.strip() for line in (value or "").splitlines() if line.strip()]
    if key == "languages":
        return list(value or [])
    if key == "model":
        return "" if value == DEPLOYMENT_MODEL else value
    if _field_type(key) is int:  # an emptied number box: the field's own default
        return int(value) if value is not None else _default(key)
    return value.strip() if isinstance(value, str) else value


@dataclass(frozen=True)
class SettingsTab:
    form_of: gr.State  # the bot whose settings the form holds
    outputs: list[Any]
    fill: Any  # (bot, request) -> {component: value}
    # Deleting the bot, the one destructive action on a bot, in one place: shown to the firm's
    # owners, saying what goes, done once the bot's name is typed.
    danger: gr.Accordion
    confirm: gr.Textbox
    drop: gr.Button


def _owners(key: str) -> bool:
    """Whether the form's field `key` is an owner's to change."""
    return key.split(".")[0] in OWNER_ONLY


def bot_settings_tab(console: Console, bot: gr.Dropdown) -> SettingsTab:
    services = console.services

    def model_choices() -> list[str]:
        return [DEPLOYMENT_MODEL, "embedded", *ollama_models(services.settings.model)]

    def fill(bot: str, request: gr.Request) -> dict[Any, Any]:
        # An editor sees the owner's settings but cannot change them (change_bot refuses it
        # too, for a request made without this page).
        owner = console.staff(request, bot).role is Role.OWNER
        profile = services.profile(bot) if bot else BotProfile()
        dumped = profile.model_dump(mode="json")
        values = {
            fields[k]: gr.update(
                value=_shown(k, _value_of(dumped, k)), interactive=owner or not _owners(k)
            )
            for k in fields
            if k != "model"
        }
        chosen = profile.model or DEPLOYMENT_MODEL
        values[fields["model"]] = gr.update(
            choices=sorted({*model_choices(), chosen}), value=chosen, interactive=owner
        )
        snippet = ""
        if bot:
            iframe, script = embed_snippets(console.public_url(request), bot, profile.title)
            snippet = f"{iframe}\n\n{script}"
        going = what_goes(services, bot) if bot else ""
        return {**values, snippets: snippet, form_of: bot or "", what_goes_md: going}

    def save(values: dict[Any, Any], request: gr.Request) -> str:
        account = console.staff(request, values[bot])
        chosen = values[bot]
        if not chosen:
            raise refusal("Choose or create a bot first.")
        if values[form_of] != chosen:  # chosen a moment ago: the form holds another's settings
            raise refusal(f"The settings of {chosen} are still loading; check them, then save.")
        entered = {key: _read(key, values[component]) for key, component in fields.items()}
        notice = {
            lang: text
            for lang in NOTICE_LANGUAGES
            if (text := entered.pop(f"privacy_notice.{lang}"))
        }
        changes = {**entered, "privacy_notice": notice}
        current = services.profile(chosen).model_dump(mode="json")
        changed = {
            key: value
            for key, value in changes.items()
            if (current["privacy_notice"] if key == "privacy_notice" else _value_of(current, key))
            != value
        }
        if not changed:
            return "Nothing changed."
        try:
            change_bot(services, chosen, changed, account.username, account.role)
        except KnowledgeError as exc:
            # "business_hours.mon: '25-26' is not a time span…" as "Monday: …": the field as
            # the form names it.
            said = str(exc)
            for key in sorted(fields, key=len, reverse=True):
                said = said.replace(f"{key}: ", f"{fields[key].label}: ")
            raise refusal(said, duration=None) from exc
        return f"Saved: {', '.join(changed)}. The chat uses it from the next message."

    with gr.Tab("Bot settings"):
        form_of = gr.State("")
        fields: dict[str, Any] = {
            "business": gr.Textbox(label="Business name (in the prompt)"),
            "title": gr.Textbox(label="Title (above the chat)"),
            "greeting": gr.Textbox(label="Greeting", lines=2),
            "persona": gr.Textbox(label="Persona and tone (added to the prompt)", lines=2),
            "contact": gr.Textbox(label="How to reach a person when the bot cannot help"),
        }
        with gr.Row():
            fields["phone"] = gr.Textbox(label="Phone")
            fields["whatsapp"] = gr.Textbox(label="WhatsApp number (+60…)")
            fields["email"] = gr.Textbox(label="E-mail")
            fields["hours"] = gr.Textbox(label="Opening hours")
        fields["avatar"] = gr.Textbox(label="Avatar URL (https://… or /path)")
        fields["colour"] = gr.ColorPicker(label="Colour")
        fields["suggestions"] = gr.Textbox(label="Suggested questions, one a line", lines=3)
        fields["allowed_origins"] = gr.Textbox(
            label="Sites allowed to embed the bot, one a line (https://shop.example) · owner only",
            lines=2,
        )
        with gr.Row():
            fields["limits.visitor_messages_per_minute"] = gr.Number(
                label="Messages a visitor a minute", precision=0
            )
            fields["limits.bot_messages_per_minute"] = gr.Number(
                label="Messages the bot a minute", precision=0
            )
            fields["limits.max_message_chars"] = gr.Number(
                label="Longest message (characters)", precision=0
            )
            fields["limits.max_turns"] = gr.Number(label="Questions a conversation", precision=0)
        fields["languages"] = gr.CheckboxGroup(
            list(typing.get_args(typing.get_args(_field_type("languages"))[0])),
            label="Languages it answers in (none ticked: the customer's own; else the first"
            " ticked for any other)",
        )
        with gr.Row():
            fields["model"] = gr.Dropdown(
                label="Chat model (Ollama's models, or the embedded one) · owner only",
                choices=[DEPLOYMENT_MODEL],
                allow_custom_value=True,
            )
            fields["answer_mode"] = gr.Radio(
                list(typing.get_args(_field_type("answer_mode"))),
                value=BotProfile().answer_mode,
                label="Answer mode (auto: checked against the sources; extract: quotes only)"
                " · owner only",
            )
        with gr.Accordion("Business hours (when a person is there to answer)", open=False):
            gr.Markdown(
                "Each day's hours as `10:00-13:00, 14:00-20:00`; empty: closed. Outside them a"
                " customer asking for a person is told when you open. None set: only whether"
                " someone has the Inbox open counts."
            )
            with gr.Row():
                for day, name in _DAY_NAMES.items():
                    fields[f"business_hours.{day}"] = gr.Textbox(label=name, min_width=120)
            with gr.Row():
                fields["business_hours.public_holidays"] = gr.Dropdown(
                    [("Open on public holidays", ""), *_states()],
                    label="Closed on the public holidays of",
                )
                fields["business_hours.closed_on"] = gr.Textbox(
                    label="Other days closed, one a line (YYYY-MM-DD)", lines=2
                )
                fields["business_hours.timezone"] = gr.Textbox(label="Time zone")
        with gr.Accordion("Handoff to a person · owner only", open=False):
            with gr.Row():
                fields["handoff.enabled"] = gr.Checkbox(
                    label="Pass customers to a person (the Inbox tab) when they ask for one"
                )
                fields["handoff.after_misses"] = gr.Number(
                    label="…or after this many questions the bot could not answer in a row"
                    " (0: only when asked)",
                    precision=0,
                )
                fields["handoff.show_staff_as"] = gr.Radio(
                    [("as someone from the team", "team"), ("by their account's name", "name")],
                    label="Show the person who joins the chat",
                )
            fields["handoff.email_to"] = gr.Textbox(
                label="E-mail these staff when a customer waits or leaves a contact, one"
                " address a line (needs the server's SMTP settings)",
                lines=2,
            )
        with gr.Accordion("Privacy", open=False):
            fields["retention_days"] = gr.Number(
                label="Keep conversations for (days); then they are deleted. 0: deleted at"
                " the next hourly purge. · owner only",
                precision=0,
            )
            gr.Markdown(
                "The privacy notice customers agree to before chatting. Left empty, a"
                " default in plain words is shown (see docs/PDPA.md); any change asks"
                " customers to agree again."
            )
            for lang in NOTICE_LANGUAGES:
                fields[f"privacy_notice.{lang}"] = gr.Textbox(
                    label=f"Privacy notice ({_NOTICE_NAMES[lang]}) · owner only",
                    lines=3,
                    placeholder=_default_notice(lang),
                )
        save_button = gr.Button("Save", variant="primary")
        saved = gr.Markdown()
        snippets = gr.Code(label="Embed on your website", language="html", interactive=False)
        with gr.Accordion("Delete this bot", open=False, visible=False) as danger:
            what_goes_md = gr.Markdown()
            confirm = gr.Textbox(label="Type the bot's name to delete it")
            drop = gr.Button("Delete bot", variant="stop")

    outputs = [form_of, *fields.values(), snippets, what_goes_md]
    save_button.click(save, {bot, form_of, *fields.values()}, saved).then(fill, bot, outputs)
    return SettingsTab(form_of, outputs, fill, danger, confirm, drop)
