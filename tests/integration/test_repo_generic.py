"""The generic repository methods and the few record methods no other test reaches."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.db import DataQualityMetric, UnderlyingSecurity
from alc_data.db.database import Database
from alc_data.repositories import Repositories


async def test_list_count_delete_and_record_many(clean_db: AsyncEngine) -> None:
    db = Database(clean_db)
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        qqq = await repos.securities.upsert("QQQ")
        await repos.corporate_actions.record(
            spy.id, action_type="DIVIDEND", ex_date=date(2024, 3, 15), amount=1.6
        )
        split = await repos.corporate_actions.record(
            qqq.id, action_type="SPLIT", ex_date=date(2024, 1, 10), split_from=1, split_to=2
        )
        split.processed = True
        run = uuid.uuid4()
        stored = await repos.quality.record_many(
            [
                DataQualityMetric(run_id=run, metric_type="summary", metric_value=1.0),
                DataQualityMetric(run_id=run, metric_type="summary", metric_value=2.0),
            ]
        )
        assert all(m.id is not None for m in stored)

    async with db.session() as session:
        repos = Repositories(session)
        pending = await repos.corporate_actions.unprocessed()
        assert [(a.action_type, a.amount) for a in pending] == [("DIVIDEND", 1.6)]
        assert [m.metric_value for m in await repos.quality.for_run(run)] == [1.0, 2.0]
        securities = repos.securities
        listed = await securities.list(order_by=[UnderlyingSecurity.symbol], limit=1)
        assert [s.symbol for s in listed] == ["QQQ"]
        assert await securities.count(UnderlyingSecurity.symbol == "SPY") == 1
        tmp = await securities.upsert("TMP")
        await securities.delete(tmp)
        assert await securities.count() == 2
        assert await securities.get(tmp.id) is None
