"""The tables, as SQLAlchemy Core metadata: what the migrations create, and what queries use.

A change here goes with a new migration in migrations/versions/; the test suite checks that the
migrated schema and this metadata agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # owner | editor
    Column("password_hash", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    # Every bot (the firm's staff), or only those in account_bots (a shop's staff, #32).
    Column("all_bots", Boolean, nullable=False, default=True),
)

# The bots an account limited to some (all_bots false) may see; its role holds on each.
account_bots = Table(
    "account_bots",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("bot", String(64), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    # The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
    # does not let anyone in.
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

known_devices = Table(
    "known_devices",
    metadata,
    # A browser where an account has logged in: its cookie's random token, kept as a SHA-256.
    # Failed logins by others do not lock the account out on it (store/accounts.py).
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=False),
    Index("known_devices_by_account", "account_id"),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(128), nullable=False),  # "user:<name>" or "addr:<address>"
    Column("at", Float, nullable=False),
    Index("login_failures_by_key", "key", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),  # a username, or "cli:<os user>"
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    # SHA-256 of this entry and the hash of the one before: see audit.py.
    Column("hash", String(64), nullable=False, server_default=""),
)

audit_chain = Table(
    "audit_chain",
    metadata,
    # One row: the last entry and its hash, so that removing the newest entries shows too.
    Column("id", Integer, primary_key=True),
    Column("last_id", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("conversation_id", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("answered", Boolean, nullable=False),
    Column("fallback", String(16)),
    # model, extract, pinned or fallback (chatbot.answering.result.Kind)
    Column("kind", String(16), nullable=False, default=""),
    Column("guard_reason", Text, nullable=False, default=""),
    Column("language", String(8), nullable=False),
    Column("sources", Text, nullable=False),  # JSON list
    Column("model", String(255)),
    Column("prompt", String(255)),
    Column("timings", Text, nullable=False),  # JSON object
    Column("rating", SmallInteger),  # the customer's: 1 up, -1 down, None not rated
    Column("rated_at", Float),
    Index("answers_by_conversation", "conversation_id", "id"),
    Index("answers_by_bot_time", "bot", "created_at"),
)

conversation_states = Table(
    "conversation_states",
    metadata,
    # Only conversations that left the bot's hands, or missed an answer, have a row: one with
    # none is with the bot (chatbot/inbox).
    Column("conversation_id", String(32), primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # bot | waiting | staff | closed
    Column("reason", String(16), nullable=False, default=""),  # asked | missed | staff
    Column("staff", String(64)),  # the account that has it (state staff)
    Column("misses", Integer, nullable=False, default=0),  # unanswered questions running
    Column("keep", Boolean, nullable=False),  # the customer's choice: see store/inbox.py
    Column("since", Float, nullable=False),  # in this state since
    Column("updated_at", Float, nullable=False),  # the last message either way
    Index("conversation_states_by_bot", "bot", "state"),
)

inbox_messages = Table(
    "inbox_messages",
    metadata,
    # What the customer and staff said to each other (the bot's answers are in `answers`), and
    # what happened (a person joined, the bot took over again), masked as answers are.
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("conversation_id", String(32), nullable=False),
    Column("at", Float, nullable=False),
    Column("author", String(16), nullable=False),  # customer | staff | event
    Column("name", String(64), nullable=False, default=""),  # staff as the customer sees them
    Column("text", Text, nullable=False),
    Index("inbox_messages_by_conversation", "conversation_id", "id"),
)

leads = Table(
    "leads",
    metadata,
    # A customer's name and contact details left for a call back, with the purpose stated
    # (store/leads.py): sealed (AES-GCM, a key of the data directory's) so that a copy of the
    # database alone names nobody; staff read them in the console, each opening audited.
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("conversation_id", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("status", String(16), nullable=False),  # new | contacted | done
    Column("sealed", LargeBinary, nullable=False),  # nonce + JSON of name, phone, e-mail, message
    Column("language", String(8), nullable=False),  # the customer's, to call back in
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(64), nullable=False, default=""),
    Index("leads_by_bot", "bot", "id"),
)

webhooks = Table(
    "webhooks",
    metadata,
    # Where a bot's events are posted, signed with the webhook's own secret (sealed with a key
    # of the data directory's; shown to the owner once, when made).
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("events", Text, nullable=False),  # JSON list of event names
    Column("secret", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(64), nullable=False),
    Index("webhooks_by_bot", "bot", "id"),
)

deliveries = Table(
    "deliveries",
    metadata,
    # Every e-mail and webhook post owed, an outbox every server drains (chatbot/inbox/alerts.py):
    # claimed one at a time, retried with backoff, its last outcome kept for the console.
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("channel", String(16), nullable=False),  # webhook | email
    Column("target", String(2048), nullable=False),  # the URL, or the addresses
    Column("webhook_id", Integer),
    Column("event", String(32), nullable=False),
    Column("conversation_id", String(32), nullable=False, default=""),  # erased with it
    Column("payload", Text, nullable=False),  # JSON; customers' words masked
    Column("state", String(16), nullable=False),  # pending | sending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False),
    Column("claimed_until", Float, nullable=False, default=0.0),
    Column("outcome", Text, nullable=False, default=""),  # "HTTP 500", "connection refused"
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("deliveries_due", "state", "next_at"),
    Index("deliveries_by_bot", "bot", "id"),
)

uploads = Table(
    "uploads",
    metadata,
    # What became of each file staff gave a bot, rejected ones included: the knowledge base
    # holds only what was ingested, and staff must see why the rest was not.
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("source", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # ingested | unchanged | rejected
    Column("reason", Text, nullable=False, default=""),
    Column("chunks", Integer, nullable=False, default=0),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Index("uploads_by_bot", "bot", "source", "id"),
)

pinned_answers = Table(
    "pinned_answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Index("pinned_answers_by_bot", "bot", "id"),
)

bots = Table(
    "bots",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("profile", Text, nullable=False),  # JSON of BotProfile
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    # A customer's agreement to the bot's privacy notice, which starts each conversation:
    # when, to which version of the notice, and whether the conversation may be kept.
    Column("conversation_id", String(32), primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("notice_version", String(16), nullable=False),
    Column("keep", Boolean, nullable=False),
    Index("consents_by_bot_time", "bot", "at"),
)

contact_keys = Table(
    "contact_keys",
    metadata,
    # The e-mail addresses and phone numbers a customer gave, masked in the conversation, kept
    # only as keyed hashes (HMAC, key in the data directory): staff who type the address can
    # find the customer's conversations, a copy of the database alone names nobody.
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("conversation_id", String(32), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Index("contact_keys_by_hash", "key_hash"),
    Index("contact_keys_by_conversation", "conversation_id"),
)

test_questions = Table(
    "test_questions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("body", Text, nullable=False),  # the question as JSON, as in a JSONL file
    Column("added_at", Float, nullable=False),
    Column("added_by", String(64), nullable=False),
    Index("test_questions_by_bot", "bot", "id"),
)

websites = Table(
    "websites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("root", String(2048), nullable=False),  # https://www.shop.example/
    Column("added_at", Float, nullable=False),
    Column("added_by", String(64), nullable=False),
    Column("every_hours", Float, nullable=False),  # read again this often; 0: on demand only
    Column("last_read_at", Float),
    Column("last_report", Text),  # the last read's outcome as JSON: counts, changes, reasons
    Index("websites_by_bot", "bot", "root", unique=True),
)

website_pages = Table(
    "website_pages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("websites.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("etag", String(512)),
    Column("last_modified", String(128)),
    Index("website_pages_by_site", "site_id", "url", unique=True),
)

# Shared short-lived state (chatbot/shared_state/database.py), for several servers without Redis:
# UNLOGGED on PostgreSQL (lost in a crash, like a server's memory, and not written twice).
rate_events = Table(
    "rate_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(255), nullable=False),
    Column("at", Float, nullable=False),
    Index("rate_events_by_key", "key", "at"),
)

leases = Table(
    "leases",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("token", String(32), primary_key=True),
    Column("expires_at", Float, nullable=False),
)

short_lived = Table(
    "short_lived",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("short_lived_by_expiry", "expires_at"),
)

# Uploads and website reads done by a worker (chatbot/jobs), when the deployment has a job
# queue: what any server shows of their progress, and the uploaded files until each is ingested
# (any worker reads them).
ingest_jobs = Table(
    "ingest_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # files | website | schedule
    Column("target", String(2048), nullable=False),  # the website's address; "" for files
    Column("actor", String(64), nullable=False),
    Column("mask_personal_data", Boolean, nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done | failed
    Column("progress", Text, nullable=False, default=""),  # "file 2 of 3: …, 120/300 passages"
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ingest_jobs_by_bot", "bot", "id"),
)

ingest_job_files = Table(
    "ingest_job_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, ForeignKey("ingest_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("content", LargeBinary),  # emptied once the file is ingested
    Column("outcome", String(16)),  # ingested | unchanged | rejected; none until it is done
    Column("detail", Text, nullable=False, default=""),  # the reason or note
    Column("chunks", Integer, nullable=False, default=0),
    Index("ingest_job_files_by_job", "job_id", "id"),
)

# WhatsApp (chatbot/whatsapp): a bot's number on Meta's Cloud API, its customers by number,
# and every message in and out. Secrets and customers' numbers and words are sealed with a key
# of the data directory's; a number is looked up by a keyed hash of it.
whatsapp_channels = Table(
    "whatsapp_channels",
    metadata,
    Column("bot", String(64), primary_key=True),
    Column("phone_number_id", String(64), nullable=False, unique=True),
    Column("secrets", LargeBinary, nullable=False),  # sealed JSON: token, app and verify secrets
    Column("template", String(512), nullable=False, default=""),  # JSON {name, language} or ""
    Column("problem", Text, nullable=False, default=""),  # what Meta last refused, for staff
    Column("problem_at", Float, nullable=False, default=0.0),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(64), nullable=False),
)

whatsapp_customers = Table(
    "whatsapp_customers",
    metadata,
    Column("bot", String(64), primary_key=True),
    Column("number_key", String(64), primary_key=True),  # keyed hash of the number
    Column("number", LargeBinary, nullable=False),  # sealed: where replies go
    Column("conversation_id", String(32), nullable=False, default=""),  # "" until consent
    Column("language", String(8), nullable=False, default="en"),
    Column("last_inbound_at", Float, nullable=False, default=0.0),  # the 24-hour window
    Column("notice_at", Float, nullable=False, default=0.0),  # the notice last sent
    Column("busy_until", Float, nullable=False, default=0.0),  # one server at a time
    Column("created_at", Float, nullable=False),
    Index("whatsapp_customers_by_conversation", "bot", "conversation_id"),
)

whatsapp_messages = Table(
    "whatsapp_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("number_key", String(64), nullable=False),
    Column("direction", String(3), nullable=False),  # in | out
    Column("wamid", String(255)),  # Meta's id: an incoming one's, or an outgoing one's once sent
    Column("kind", String(24), nullable=False),  # text | button | audio | image | … ; out: text…
    Column("body", LargeBinary),  # sealed JSON; emptied once handled or sent
    # in: pending | parked (until consent) | done; out: pending | sending | sent | delivered |
    # read | failed
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False, default=0.0),
    Column("claimed_until", Float, nullable=False, default=0.0),
    Column("outcome", Text, nullable=False, default=""),
    Column("at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("whatsapp_messages_once", "bot", "direction", "wamid", unique=True),
    Index("whatsapp_messages_by_customer", "bot", "number_key", "id"),
    Index("whatsapp_messages_due", "state", "next_at"),
)

# Outcomes (#32): what became of each conversation, as counts and flags only (no words of the
# customer's), so that the resolution and automation rates count every conversation, kept or
# not. Erased with the conversation and purged with its bot's retention period.
conversation_outcomes = Table(
    "conversation_outcomes",
    metadata,
    Column("conversation_id", String(32), primary_key=True),
    Column("bot", String(64), nullable=False),
    Column("channel", String(16), nullable=False),  # web | whatsapp
    Column("language", String(8), nullable=False),  # of the first question
    Column("started_at", Float, nullable=False),  # the first message
    Column("last_at", Float, nullable=False),  # the latest message
    Column("questions", Integer, nullable=False, default=0),  # small talk apart
    Column("answered", Integer, nullable=False, default=0),
    Column("last_answered", Boolean, nullable=False, default=False),  # the latest question
    Column("person", Boolean, nullable=False, default=False),  # asked for, or given, a person
    Column("thanked", Boolean, nullable=False, default=False),  # thanks after an answer
    Column("rating", SmallInteger),  # the latest thumbs on an answer: 1 up, -1 down
    Column("csat", SmallInteger),  # the customer's rating of the conversation, 1 to 5
    Index("conversation_outcomes_by_bot", "bot", "started_at"),
)
