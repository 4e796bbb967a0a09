"""Work that outlives a web request, taken by any worker (`chatbot worker`) from a queue in the
PostgreSQL database (procrastinate): an upload returns at once, its progress is visible from
every server, a server restart loses nothing, and a job whose worker died is taken over by
another. A deployment on SQLite has no queue: uploads are ingested in the process, as before."""
