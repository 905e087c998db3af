"""Fixtures of the importer tests: a Database on the session's migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.db.database import Database


@pytest.fixture
async def db(clean_db: AsyncEngine, migrated_url: URL) -> AsyncIterator[Database]:
    """A Database on the session's migrated database (emptied after the test)."""
    database = Database.from_url(migrated_url)
    yield database
    await database.close()
