"""Persistence: the one MetaData, the table mapping, the engine and the unit of work."""

from wms.db.database import Database
from wms.db.schema import Base, metadata

__all__ = ["Base", "Database", "metadata"]
