"""A bot's websites, read by staff's request or by the server's schedule: added, read again,
removed. Audited like every other change to a bot's knowledge."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chatbot.jobs.progress import JobProgress
from chatbot.privacy.documents import PersonalDataReview
from chatbot.services import Services
from chatbot.shared_state import one_at_a_time
from chatbot.store.ingest_jobs import IngestJob
from chatbot.store.websites import Website
from knowledge.base import check_bot_name
from knowledge.crawl.site import SiteCrawl, SiteError, site_root
from knowledge.ingest import ProgressSink, SiteReport, ingest_site

log = logging.getLogger(__name__)


def report_json(report: SiteReport) -> dict[str, Any]:
    """What the console and `chatbot sites` show of a read."""
    return {
        "summary": report.summary(),
        "added": report.added,
        "changed": report.changed,
        "unchanged": len(report.unchanged),
        "forgotten": report.forgotten,
        "skipped": [[url, why] for url, why in report.skipped],
        "notes": [[url, note] for url, note in report.notes],
        "stopped_by": report.stopped_by,
        "used_sitemap": report.used_sitemap,
    }


# The sites this process is reading now: a second read of one (a staff member's click while
# the schedule reads it) is refused rather than run beside the first, both writing its pages.
_READING: set[tuple[str, str]] = set()
_READING_LOCK = threading.Lock()


@contextmanager
def _one_read(bot: str, root: str) -> Iterator[None]:
    with _READING_LOCK:
        if (bot, root) in _READING:
            raise SiteError(f"{root} is being read already; its outcome shows when that read ends")
        _READING.add((bot, root))
    try:
        yield
    finally:
        with _READING_LOCK:
            _READING.discard((bot, root))


def read_website(
    services: Services,
    bot: str,
    address: str,
    actor: str,
    progress: ProgressSink | None = None,
    *,
    mask_personal_data: bool = False,
    every_hours: float | None = None,
) -> SiteReport:
    """Read (or read again) a website into the bot's knowledge. A site that cannot be read at
    all (SiteError: an address refused, robots.txt failing) is not kept if it was new."""
    root = site_root(address)
    with _one_read(bot, root):
        return _read_website(services, bot, root, actor, progress, mask_personal_data, every_hours)


def _read_website(
    services: Services,
    bot: str,
    root: str,
    actor: str,
    progress: ProgressSink | None,
    mask_personal_data: bool,
    every_hours: float | None,
) -> SiteReport:
    hours = services.settings.crawl.every_hours if every_hours is None else every_hours
    site = services.websites.add(bot, root, actor, hours)
    crawl = SiteCrawl(root, services.crawl_limits(), services.websites.validators(site))
    try:
        report = ingest_site(
            services.knowledge(bot),
            crawl,
            services.ingest_limits_for(bot),
            progress,
            PersonalDataReview(mask_personal_data),
        )
    except SiteError as exc:
        if site.last_read_at is None:
            services.websites.remove(site)
        else:  # kept as it was, the failure shown, and not tried again before it is due
            failed = {"summary": f"not read: {exc}", "error": str(exc)}
            services.websites.record_read(site, failed, crawl.known)
        services.audit.record(actor, "knowledge.website.refused", f"{bot}: {root}", str(exc))
        raise
    finally:
        crawl.close()
    services.websites.record_read(site, report_json(report), report.validators)
    services.audit.record(actor, "knowledge.website", f"{bot}: {root}", report.summary())
    return report


def queue_website_read(
    services: Services, bot: str, address: str, actor: str, *, scheduled: bool = False
) -> int | None:
    """Hand a read of the site to the job queue (a worker reads it); the job's id, at once, or
    None when a read of it is already waiting. A scheduled read is skipped if the site was read
    after it was queued."""
    check_bot_name(bot)
    root = site_root(address)  # an address that cannot be a site is refused here, at once
    kind = "schedule" if scheduled else "website"
    job_id = services.ingest_jobs.create(bot, actor, False, [], kind=kind, target=root)
    if not services.job_queue().queue_ingest(job_id, once=f"website:{bot}:{root}"):
        services.ingest_jobs.delete(job_id)  # one waiting is enough
        return None
    services.audit.record(actor, "knowledge.website.queued", f"{bot}: {root}", f"job {job_id}")
    return job_id


def run_website_job(services: Services, job: IngestJob) -> None:
    """A worker's part: read the site (again: what did not change is not fetched or embedded,
    so a read taken over after a crash costs little more than the pages left)."""
    services.ingest_jobs.start(job.id)
    if job.kind == "schedule":
        site = services.websites.get(job.bot, job.target)
        if site is None or (site.last_read_at or 0) >= job.created_at:
            services.ingest_jobs.finish(job.id, "done", "read since it was queued: not again")
            return
    doing = f"reading {job.target}"
    try:
        report = read_website(
            services,
            job.bot,
            job.target,
            job.actor,
            JobProgress(services.ingest_jobs, job.id, doing),
        )
    except SiteError as exc:
        services.ingest_jobs.finish(job.id, "failed", str(exc))
        return
    services.ingest_jobs.finish(job.id, "done", report.summary())


def remove_website(services: Services, bot: str, address: str, actor: str) -> int:
    """The site no longer read, and its pages forgotten; how many were."""
    root = site_root(address)
    site = services.websites.get(bot, root)
    if site is None:
        raise SiteError(f"bot {bot!r} does not read {root}")
    kb = services.knowledge(bot)
    forgotten = sum(kb.forget(d.source) for d in kb.documents() if d.source.startswith(root))
    services.websites.remove(site)
    services.audit.record(actor, "knowledge.website.remove", f"{bot}: {root}", f"{forgotten} pages")
    return forgotten


def schedule_website(
    services: Services, bot: str, address: str, every_hours: float, actor: str
) -> Website:
    """How often the server reads the site again (0: only when asked)."""
    if not 0 <= every_hours <= 24 * 365:
        raise SiteError("read it again every 0 (only when asked) to 8,760 hours (a year)")
    root = site_root(address)
    site = services.websites.get(bot, root)
    if site is None:
        raise SiteError(f"bot {bot!r} does not read {root}")
    services.websites.set_every(site, every_hours)
    services.audit.record(
        actor, "knowledge.website.schedule", f"{bot}: {root}", f"{every_hours:g} h"
    )
    return services.websites.get(bot, root) or site


class WebsiteSchedule:
    """Reads each site again when it is due (its `every_hours` since its last read), checking
    every `check_every_s` seconds, in a daemon thread while the server runs. Every server runs
    one; a site due is read by one of them (the first to claim it in the shared store), and the
    others find it read."""

    def __init__(self, services: Services, check_every_s: float) -> None:
        self._services, self._check_every_s = services, check_every_s
        self._thread = threading.Thread(target=self._run, name="website-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def run_once(self, now: float | None = None) -> list[Website]:
        """Read each site due at `now` (default: now), or with a job queue have a worker read
        it; the sites this process read or queued."""
        services = self._services
        when = time.time() if now is None else now
        if services.has_job_queue:
            return self._queue_due(when)
        longest_s = services.settings.crawl.max_total_s + 60
        read = []
        for site in [s for s in services.websites.all() if s.due(when)]:
            key = f"website:{site.bot}:{site.root}"
            with one_at_a_time(services.shared_state, key, longest_s) as ours:
                current = services.websites.get(site.bot, site.root) if ours else None
                if current is None or not current.due(when):
                    continue  # another server is reading it, or has just read it
                try:
                    report = read_website(services, site.bot, site.root, "system:schedule")
                    log.info("website %s read for %s: %s", site.root, site.bot, report.summary())
                except Exception:  # one site's failure must not stop the others' schedule
                    log.exception("reading website %s for bot %s failed", site.root, site.bot)
                read.append(current)
        return read

    def _queue_due(self, when: float) -> list[Website]:
        """Have a worker read each site due, unless a read of it is waiting or under way:
        every server looks, one at a time, so one read is queued."""
        services, queued = self._services, []
        for site in [s for s in services.websites.all() if s.due(when)]:
            key = f"website:{site.bot}:{site.root}"
            with one_at_a_time(services.shared_state, key, 60) as ours:
                if not ours or services.ingest_jobs.unfinished(site.bot, site.root):
                    continue
                queue_website_read(services, site.bot, site.root, "system:schedule", scheduled=True)
                queued.append(site)
        return queued

    def _run(self) -> None:
        while True:
            self.run_once()
            time.sleep(self._check_every_s)
