"""Whether the business is open, and when it opens next, from a bot's structured hours: the
week's spans, the days it closes, and Malaysia's public holidays of its state (the `holidays`
package, which follows each year's gazette, Hari Raya and Chinese New Year included)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from chatbot.settings import BusinessHours

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # BusinessHours' fields, Monday first
_LOOK_AHEADDAYS = 31  # a closure longer than a month: "when we are back" without a date


def is_set(hours: BusinessHours) -> bool:
    return any(getattr(hours, day) for day in DAYS)


@lru_cache(maxsize=64)
def _holidays(state: str, year: int) -> frozenset[dt.date]:
    from holidays.countries.malaysia import Malaysia

    return frozenset(Malaysia(subdiv=state, years=year))


def _spans(hours: BusinessHours, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    """The day's opening spans, none on a day it is closed."""
    if day in hours.closed_on:
        return []
    if hours.public_holidays and day in _holidays(hours.public_holidays, day.year):
        return []
    spans = []
    for span in filter(None, getattr(hours, DAYS[day.weekday()]).split(", ")):
        start, end = span.split("-")
        spans.append((_time(start), _time(end)))
    return spans


def _time(text: str) -> dt.time:
    hour, minute = (int(x) for x in text.split(":"))
    return dt.time.max if hour == 24 else dt.time(hour, minute)


def is_open(hours: BusinessHours, now: dt.datetime) -> bool:
    """Whether `now` is within the hours; always, where no hours are set."""
    if not is_set(hours):
        return True
    local = now.astimezone(ZoneInfo(hours.timezone))
    return any(start <= local.time() < end for start, end in _spans(hours, local.date()))


def next_opening(hours: BusinessHours, now: dt.datetime) -> dt.datetime | None:
    """When it next opens after `now` (in the business's time zone); None where no hours are
    set or none comes within a month."""
    if not is_set(hours):
        return None
    zone = ZoneInfo(hours.timezone)
    local = now.astimezone(zone)
    for ahead in range(_LOOK_AHEADDAYS + 1):
        day = local.date() + dt.timedelta(days=ahead)
        for start, _ in _spans(hours, day):
            opening = dt.datetime.combine(day, start, zone)
            if opening > local:
                return opening
    return None


WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "ms": ("Isnin", "Selasa", "Rabu", "Khamis", "Jumaat", "Sabtu", "Ahad"),
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
}
_TODAY = {"en": "today", "ms": "hari ini", "zh": "今天"}
_TOMORROW = {"en": "tomorrow", "ms": "esok", "zh": "明天"}


def opening_words(opening: dt.datetime, now: dt.datetime, language: str) -> str:
    """`tomorrow at 10:00`, `esok, 10:00`, `明天 10:00`, `Monday 2 March at 10:00`."""
    language = language if language in WEEKDAYS else "en"
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    clock = opening.strftime("%H:%M")
    if days == 0:
        day = _TODAY[language]
    elif days == 1:
        day = _TOMORROW[language]
    else:
        weekday = WEEKDAYS[language][opening.weekday()]
        if language == "zh":
            day = f"{opening.month}月{opening.day}日{weekday}"
        elif language == "ms":
            day = f"{weekday} {opening.day}/{opening.month}"
        else:
            day = f"{weekday} {opening.day} {opening.strftime('%B')}"
    if language == "zh":
        return f"{day} {clock}"
    return f"{day}, {clock}" if language == "ms" else f"{day} at {clock}"
