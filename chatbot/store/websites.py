"""The websites each bot reads: when, how often, what the last read found; and each page's
validators, so the next read asks the site whether a page changed instead of fetching it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from chatbot.store.schema import website_pages, websites
from knowledge.crawl.site import Validators


@dataclass(frozen=True, slots=True)
class Website:
    id: int
    bot: str
    root: str
    every_hours: float
    last_read_at: float | None
    last_report: dict[str, Any] | None

    def due(self, now: float) -> bool:
        if self.every_hours <= 0:
            return False
        return self.last_read_at is None or now - self.last_read_at >= self.every_hours * 3600


class Websites:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @staticmethod
    def _site(row: Any) -> Website:
        report = json.loads(row.last_report) if row.last_report else None
        return Website(row.id, row.bot, row.root, row.every_hours, row.last_read_at, report)

    def of_bot(self, bot: str) -> list[Website]:
        query = select(websites).where(websites.c.bot == bot).order_by(websites.c.root)
        with self._engine.connect() as db:
            return [self._site(r) for r in db.execute(query)]

    def all(self) -> list[Website]:
        with self._engine.connect() as db:
            return [self._site(r) for r in db.execute(select(websites).order_by(websites.c.id))]

    def get(self, bot: str, root: str) -> Website | None:
        query = select(websites).where(websites.c.bot == bot, websites.c.root == root)
        with self._engine.connect() as db:
            row = db.execute(query).first()
        return self._site(row) if row else None

    def add(self, bot: str, root: str, actor: str, every_hours: float) -> Website:
        """The site, kept for the bot (as it was, if it already is)."""
        found = self.get(bot, root)
        if found is not None:
            return found
        with self._engine.begin() as db:
            db.execute(
                insert(websites).values(
                    bot=bot,
                    root=root,
                    added_at=time.time(),
                    added_by=actor[:64],
                    every_hours=every_hours,
                )
            )
        made = self.get(bot, root)
        assert made is not None  # just inserted
        return made

    def validators(self, site: Website) -> dict[str, Validators]:
        query = select(website_pages).where(website_pages.c.site_id == site.id)
        with self._engine.connect() as db:
            return {r.url: Validators(r.etag, r.last_modified) for r in db.execute(query)}

    def record_read(
        self, site: Website, report: dict[str, Any], pages: dict[str, Validators]
    ) -> None:
        """A read's outcome and its pages' validators, in one transaction."""
        rows = [
            {"site_id": site.id, "url": url, "etag": v.etag, "last_modified": v.last_modified}
            for url, v in pages.items()
        ]
        with self._engine.begin() as db:
            db.execute(
                update(websites)
                .where(websites.c.id == site.id)
                .values(
                    last_read_at=time.time(), last_report=json.dumps(report, ensure_ascii=False)
                )
            )
            db.execute(delete(website_pages).where(website_pages.c.site_id == site.id))
            if rows:
                db.execute(insert(website_pages), rows)

    def set_every(self, site: Website, hours: float) -> None:
        with self._engine.begin() as db:
            db.execute(update(websites).where(websites.c.id == site.id).values(every_hours=hours))

    def remove(self, site: Website) -> None:
        with self._engine.begin() as db:
            db.execute(delete(website_pages).where(website_pages.c.site_id == site.id))
            db.execute(delete(websites).where(websites.c.id == site.id))

    def forget_bot(self, bot: str) -> None:
        for site in self.of_bot(bot):
            self.remove(site)
