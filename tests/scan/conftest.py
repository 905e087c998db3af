"""Fixtures of the scanner tests: the migrated test database (emptied after each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data import Database


@pytest.fixture
async def db(clean_db: AsyncEngine, migrated_url: URL) -> AsyncIterator[Database]:
    """The migrated test database (emptied after the test)."""
    database = Database.from_url(migrated_url)
    yield database
    await database.close()
