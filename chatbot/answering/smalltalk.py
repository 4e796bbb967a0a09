"""Messages that are not questions about the business: greetings, thanks, goodbyes, "are you a
bot?" and "can I talk to a person?".

Searched as questions, they found nothing and the customer got "Sorry, I couldn't find that":
the worst reply to "hi". They are told by their words, in English, Malay (formal and as typed:
"tq", "tqvm", "nk ckp dgn org") and Chinese, and get a short reply in the customer's language.
A message that greets and then asks ("hi, how much is a tyre?") is a question: only a message
that says nothing else is small talk. A request for a person wins over the rest ("hi, can I
talk to a person?") wherever it stands, since that is what the customer wants.
"""

from __future__ import annotations

import re
from enum import StrEnum


class SmallTalk(StrEnum):
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"
    BOT = "bot"  # "are you a bot?", "is this a real person?"
    PERSON = "person"  # "can I talk to a person?"


def _words(*phrases: str) -> str:
    return "|".join(phrases)


# A whole message of these (with punctuation, emoji and "boss", "admin", "sis" around them).
_GREETING = _words(
    r"h+i+",
    r"h+e+l+o+",
    r"hey+",
    r"hai+",
    r"hallo",
    r"helo+",
    r"yo",
    r"good (?:morning|"
    r"afternoon|evening|day)",
    r"morning",
    r"evening",
    r"greetings",
    r"salam",
    r"assalamualaikum",
    r"assalamu'?alaikum",
    r"selamat (?:pagi|petang|tengah hari|malam|sejahtera)",
    r"apa khabar",
    r"你好",
    r"您好",
    r"哈喽",
    r"嗨",
    r"早上好",
    r"早安",
    r"午安",
    r"晚上好",
    r"大家好",
)
_THANKS = _words(
    r"thanks?(?: you)?(?: (?:so|very) much)?",
    r"thank u",
    r"thx",
    r"tq+",
    r"tqvm",
    r"ty",
    r"terima ?kasih(?: banyak(?:-banyak)?)?",
    r"makasih",
    r"ok(?:ay)? thanks?",
    r"noted,? thanks?",
    r"cheers",
    r"appreciate (?:it|that)",
    r"谢谢(?:你|您)?",
    r"多谢",
    r"感谢",
    r"谢啦",
    r"thanks? a lot",
    r"great,? thanks?",
    r"ok(?:ay)?",
    r"noted",
    r"baik",
    r"好的",
    r"好",
    r"ok lah",
)
_GOODBYE = _words(
    r"bye+",
    r"bye bye",
    r"goodbye",
    r"see (?:you|ya)",
    r"good ?night",
    r"selamat tinggal",
    r"jumpa lagi",
    r"再见",
    r"拜拜",
    r"晚安",
)
_FILLER = (
    r"(?:boss|admin|sis|bro|there|all|guys|everyone|tuan|puan|encik|cik|lah|la|ya|yea|ah|"
    r"again|kak|abang|bang|老板|老闆|啊|哦|呀|啦|了)"
)
_EDGE = r"[\s,.!?~:;'\"()\-\u3002\uff01\uff1f\uff0c\u2026\U0001F300-\U0001FAFF\u2600-\u27BF]*"


def _whole(alternatives: str) -> re.Pattern[str]:
    return re.compile(
        rf"^{_EDGE}(?:{_FILLER}{_EDGE})*(?:{alternatives})(?:{_EDGE}(?:{alternatives}|{_FILLER}))*"
        rf"{_EDGE}$",
        re.IGNORECASE,
    )


_ONLY_GREETING = _whole(_GREETING)
_ONLY_THANKS = _whole(_THANKS)
_ONLY_GOODBYE = _whole(_GOODBYE)
_ONLY_THANKS_BYE = _whole(f"{_THANKS}|{_GOODBYE}")

# Asking for a person, however put: "talk to a real person", "speak with someone", "human
# please", "agent", "cakap dengan orang", "nak staf", "转人工", "找真人", "人工客服".
_PERSON = re.compile(
    r"\b(?:talk|speak|chat|connect|transfer)\w*\b.{0,25}\b(?:person|human|someone|somebody|"
    r"staff|agent|people|boss|owner|manager|representative|operator|admin)\b|"
    r"\b(?:real|live|actual)\s+(?:person|human|people|agent|staff)\b|"
    r"^\W*(?:human|agent|operator|live agent|customer service)(?:\s+pl[sz]|\s+please)?\W*$|"
    r"\b(?:cakap|bercakap|ckp|borak|sembang|hubung(?:i)?|nak|mahu|minta)\b.{0,20}\b(?:dengan|dgn|"
    r"ngan)?\s*(?:orang|staf|staff|pekerja|manusia|pegawai|admin|tuan kedai|boss|tauke)\b|"
    r"转人工|人工客服|真人|找人|客服人员|跟人(?:说|讲)|和人(?:说|讲)|找老板|找负责人",
    re.IGNORECASE,
)
# "Are you a bot?", "is this a real person?", "awak robot ke?", "你是机器人吗？"
_BOT = re.compile(
    r"^\W*(?:are|r)\s+(?:you|u)\s+(?:a\s+)?(?:real|bot|robot|human|person|ai|machine|chatbot)\b|"
    r"^\W*(?:is\s+this|am\s+i\s+(?:talking|chatting|speaking)\s+(?:to|with))\s+(?:a\s+)?"
    r"(?:real|bot|robot|human|person|ai|machine|chatbot)\b|"
    r"\b(?:awak|anda|kamu|ni|ini)\s+(?:robot|bot|manusia|orang betul)\b|"
    r"你是(?:不是)?(?:机器人|真人|人工智能|AI)",
    re.IGNORECASE,
)
_MAX_CHARS = 80  # longer messages ask something: small talk is short


def small_talk(message: str) -> SmallTalk | None:
    """What kind of small talk `message` is, or None for a question (or anything else)."""
    text = message.strip()
    if not text or len(text) > 200:
        return None
    if _PERSON.search(text):
        return SmallTalk.PERSON
    if len(text) > _MAX_CHARS:
        return None
    if _BOT.search(text):
        return SmallTalk.BOT
    if _ONLY_GREETING.match(text):
        return SmallTalk.GREETING
    if _ONLY_THANKS.match(text):
        return SmallTalk.THANKS
    if _ONLY_GOODBYE.match(text) or _ONLY_THANKS_BYE.match(text):
        return SmallTalk.GOODBYE
    return None
