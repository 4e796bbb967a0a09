"""The application's relational database: accounts, sessions, the audit log, conversations.

SQLite in the data directory by default; any SQLAlchemy URL (PostgreSQL) when configured. The
schema is changed only by migrations (migrations/), applied at start-up.
"""
