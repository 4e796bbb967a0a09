"""The application's relational database and one store per group of its tables: accounts and
sessions, the audit log, conversations and their answers, pinned answers, upload records, the
gaps report; and the live (unkept) conversations, held in memory.

SQLite in the data directory by default; any SQLAlchemy URL (PostgreSQL) when configured. The
schema is changed only by migrations (migrations/), applied at start-up. Stores read and write
their tables; they never write the audit log (chatbot/actions/ does, once per action).
"""
