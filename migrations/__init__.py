"""Alembic migration history of the warehouse schema (SQLite and PostgreSQL)."""
