"""The privacy notice a customer agrees to before the first message (PDPA's notice and choice
principle), and its version: a hash of the texts, so that any edit makes a new version and
each consent records the exact words agreed to."""

from __future__ import annotations

import hashlib
import json

from chatbot.settings import BotProfile

# Plain words, in the languages of the chat; {business} and {days} are filled in per bot.
DEFAULT_NOTICES = {
    "en": (
        "{business} uses this chat assistant to answer your questions. What you write is"
        " processed on {business}'s own computers and is not sent to anyone else. If you let us"
        " keep the conversation, it is kept for {days} days to improve our answers and to follow"
        " up on your request, then deleted; identity-card, phone, card and passport numbers and"
        " e-mail addresses are masked before it is stored. You may ask for a copy of it, have it"
        " corrected or deleted, or delete it yourself here at any time. Please do not share more"
        " personal information than your question needs."
    ),
    "ms": (
        "{business} menggunakan pembantu sembang ini untuk menjawab soalan anda. Apa yang anda"
        " tulis diproses di komputer {business} sendiri dan tidak dihantar kepada pihak lain."
        " Jika anda membenarkan kami menyimpan perbualan ini, ia disimpan selama {days} hari"
        " untuk menambah baik jawapan kami dan menindaklanjuti permintaan anda, kemudian"
        " dipadam; nombor kad pengenalan, telefon, kad bayaran dan pasport serta alamat e-mel"
        " disembunyikan sebelum disimpan. Anda boleh meminta salinannya, membetulkan atau"
        " memadamnya, atau memadamnya sendiri di sini pada bila-bila masa. Sila jangan kongsi"
        " maklumat peribadi lebih daripada yang diperlukan oleh soalan anda."
    ),
    "zh": (
        "{business}使用此聊天助手回答您的问题。您输入的内容只在{business}自己的电脑上处理，"
        "不会发送给任何其他人。如果您同意我们保存对话，对话将保存{days}天，用于改进回答和跟进"
        "您的请求，之后删除；身份证、电话、银行卡和护照号码以及电子邮件地址在保存前会被遮盖。"
        "您可以随时索取副本、要求更正或删除，也可以在这里自行删除。请不要提供超出问题所需的"
        "个人信息。"
    ),
}


# On WhatsApp the messages travel through Meta before they reach the business: said after the
# notice (the bot's own or the default), so that "processed on the business's own computers"
# is not read as the whole journey.
WHATSAPP_LINES = {
    "en": "On WhatsApp, your messages reach us through WhatsApp (Meta), under WhatsApp's own"
    " terms and privacy policy; what we do with them here is as described above.",
    "ms": "Di WhatsApp, mesej anda sampai kepada kami melalui WhatsApp (Meta), tertakluk kepada"
    " terma dan dasar privasi WhatsApp sendiri; apa yang kami lakukan dengannya di sini adalah"
    " seperti di atas.",
    "zh": "在WhatsApp上，您的消息经由WhatsApp（Meta）传达给我们，"
    "受WhatsApp本身的条款和隐私政策约束；我们在这里如何处理这些消息，如上所述。",
}


def notice_texts(profile: BotProfile, channel: str = "web") -> dict[str, str]:
    """The bot's notice in each chat language: its own text where staff wrote one; on
    WhatsApp (`channel`), with what WhatsApp carries said too."""
    values = {"business": profile.business, "days": profile.retention_days}
    texts = {lang: text.format(**values) for lang, text in DEFAULT_NOTICES.items()}
    texts.update({lang: text.strip() for lang, text in profile.privacy_notice.items() if text})
    if channel == "whatsapp":
        english = WHATSAPP_LINES["en"]
        texts = {lang: f"{t}\n\n{WHATSAPP_LINES.get(lang, english)}" for lang, t in texts.items()}
    return texts


def notice_version(texts: dict[str, str]) -> str:
    canonical = json.dumps(texts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]
