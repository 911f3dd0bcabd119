"""Database access: the declarative base, engines for SQLite and PostgreSQL, sessions."""
