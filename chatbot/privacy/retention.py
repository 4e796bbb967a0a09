"""The retention purge: conversations, ratings and consents older than their bot's
retention_days are deleted, on a schedule while the server runs and on demand
(`chatbot privacy purge`). Each run is audited."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from chatbot.settings import BotProfile

if TYPE_CHECKING:
    from chatbot.services import Services

log = logging.getLogger(__name__)


def purge_expired(services: Services, actor: str, now: float | None = None) -> int:
    """Run the purge once; the rows deleted."""
    now = time.time() if now is None else now
    days = {bot: services.profile(bot).retention_days for bot in services.bots.names()}
    removed = services.personal_data.purge(days, BotProfile().retention_days, now)
    services.live.forget_idle()
    detail = ", ".join(f"{bot}: {d} days" for bot, d in sorted(days.items()))
    services.audit.record(actor, "privacy.purge", f"{removed} rows", detail)
    return removed


class PurgeSchedule:
    """Runs the purge every `every_s` seconds in a daemon thread while the server runs."""

    def __init__(self, services: Services, every_s: float) -> None:
        self._services, self._every_s = services, every_s
        self._thread = threading.Thread(target=self._run, name="retention-purge", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:  # first at start-up: a server that was down may be late
            try:
                purge_expired(self._services, "system:retention")
            except Exception:  # keep the schedule alive; the next run tries again
                log.exception("the retention purge failed")
            time.sleep(self._every_s)  # a daemon thread: it ends with the process
