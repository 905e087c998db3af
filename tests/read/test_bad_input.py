"""Bad input gets a typed error; literals cannot be escaped; a lost database is reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from alc_data.errors import (
    DatabaseUnavailableError,
    DataError,
    NaiveDatetimeError,
    UnknownReferenceError,
    UnknownSourceError,
)
from alc_data.read import ArrowReader
from alc_data.read.literals import int_literal, text_literal, time_literal
from tests.support.db_proxy import DbProxy
from tests.support.market import DAY0, Market, add_underlying

HOUR = timedelta(hours=1)


def test_typed_errors(reader: ArrowReader, market: Market) -> None:
    ids = market.contract_ids[:2]
    assert reader.ticks(ids, start=DAY0, end=DAY0 + HOUR).num_rows > 0  # positive control
    with pytest.raises(NaiveDatetimeError):
        reader.ticks(ids, start=datetime(2026, 11, 16), end=DAY0)
    with pytest.raises(DataError, match="before start"):
        reader.ticks(ids, start=DAY0, end=DAY0 - HOUR)
    with pytest.raises(UnknownReferenceError):
        reader.ticks(symbol="NOPE", start=DAY0, end=DAY0 + HOUR)
    with pytest.raises(DataError, match="exactly one"):
        reader.ticks(ids, symbol="SPY", start=DAY0, end=DAY0 + HOUR)
    with pytest.raises(DataError, match="exactly one"):
        reader.ticks(start=DAY0, end=DAY0 + HOUR)
    with pytest.raises(DataError, match="integer"):
        reader.ticks(["1; DROP TABLE x"], start=DAY0, end=DAY0 + HOUR)  # type: ignore[list-item]
    with pytest.raises(DataError, match="basis"):
        reader.quote_bars(ids, interval="1 min", start=DAY0, end=DAY0 + HOUR, basis="both")
    with pytest.raises(DataError, match="interval"):
        reader.quote_bars(ids, interval="30 secs", start=DAY0, end=DAY0 + HOUR)
    with pytest.raises(DataError, match="bar size"):
        reader.stored_bars(ids, bar_size="7 fortnights", what_to_show="BID_ASK",
                           start=DAY0, end=DAY0 + HOUR)  # fmt: skip
    with pytest.raises(DataError, match="source"):
        reader.ticks(ids, start=DAY0, end=DAY0 + HOUR, source="x' OR 'a'='a")
    with pytest.raises(UnknownSourceError, match=r"known sources: .*unspecified"):
        reader.ticks(ids, start=DAY0, end=DAY0 + HOUR, source="ib-paper")
    # positive control: the source that wrote the rows, by name and by default
    assert reader.ticks(ids, start=DAY0, end=DAY0 + HOUR, source="unspecified").num_rows > 0
    assert reader.ticks(ids, start=DAY0, end=DAY0 + HOUR).num_rows > 0


async def test_a_quote_in_a_name_stays_inside_the_literal(
    reader: ArrowReader, market: Market, engine: AsyncEngine
) -> None:
    with pytest.raises(UnknownReferenceError):
        reader.underlying_id("SPY' OR 'a'='a")
    name = f"O'NEIL\\{reader.connection.copy}"  # one per path
    async with AsyncSession(engine) as session, session.begin():
        uid = await add_underlying(session, name)
    assert reader.underlying_id(name) == uid  # positive control: the name itself is found


async def test_literals_hold_even_where_the_server_says_backslashes_escape(
    migrated_url: URL, market: Market, engine: AsyncEngine
) -> None:
    async with AsyncSession(engine) as session, session.begin():
        uid = await add_underlying(session, "BACK\\")
    old_style = migrated_url.update_query_dict({"options": "-c standard_conforming_strings=off"})
    with ArrowReader.connect(old_style) as reader:
        assert reader.underlying_id("BACK\\") == uid
        with pytest.raises(UnknownReferenceError):
            reader.underlying_id("x\\' OR true --")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    word=st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=40),
    number=st.integers(-(2**63), 2**63 - 1),
    at=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))])),
)  # fmt: skip
def test_literals_round_trip(reader: ArrowReader, word: str, number: int, at: datetime) -> None:
    sql = f"SELECT {text_literal(word)} AS w, {int_literal(number)} AS n, {time_literal(at)} AS t"
    import pyarrow as pa

    schema = pa.schema([("w", pa.string()), ("n", pa.int64()), ("t", pa.timestamp("us", "UTC"))])
    row = reader.read(sql, schema).to_pylist()[0]
    assert row == {"w": word, "n": number, "t": at.astimezone(UTC)}


def test_literals_refuse_what_they_cannot_render() -> None:
    with pytest.raises(DataError):
        text_literal("a\x00b")
    with pytest.raises(DataError):
        int_literal(True)
    with pytest.raises(NaiveDatetimeError):
        time_literal(datetime(2026, 1, 1))


async def test_a_lost_database_is_reported(migrated_url: URL, market: Market) -> None:
    proxy = DbProxy(migrated_url)
    url = await proxy.start()
    reader = ArrowReader.connect(url, copy=False, batch_rows=20)
    start, end = DAY0 - timedelta(hours=16), DAY0 + timedelta(days=2)
    seen = 0
    with pytest.raises(DatabaseUnavailableError):
        async for _ in reader.replay("SPY", start=start, end=end, prefetch=0, queue_batches=1):
            seen += 1
            if seen == 1:
                await proxy.sever()
    assert seen >= 1  # positive control: it was reading before the cut
    reader.close()
