"""Typed async repositories over the alc-data schema, and the bulk writers of the hot path.

Repositories take an ``AsyncSession`` the caller owns (they flush, never commit)::

    async with db.session() as session:
        repos = Repositories(session)
        snap = await repos.chains.chain_snapshot("SPY", as_of=t, expiry=date(2024, 3, 15))
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from alc_data.db.rows import (
    ChainSnapshot,
    ContractQuote,
    OptionBarRow,
    OptionTick,
    QuoteBar,
    StockBarRow,
    StockTick,
)
from alc_data.repositories.bars import OptionBarRepository, StockBarRepository
from alc_data.repositories.base import Repository
from alc_data.repositories.buffered_writer import BufferedWriter, WriterCounts
from alc_data.repositories.chains import OptionChainRepository
from alc_data.repositories.chunked_copy import ChunkedCopy, CopyOutcome
from alc_data.repositories.corporate_actions import CorporateActionRepository, PriceAdjuster
from alc_data.repositories.opportunities import OpportunityRepository
from alc_data.repositories.records import (
    BacktestRunRepository,
    DataQualityRepository,
    MarketEventRepository,
)
from alc_data.repositories.securities import SecurityRepository
from alc_data.repositories.ticks import OptionTickRepository, StockTickRepository
from alc_data.repositories.writers import (
    OptionBarWriter,
    StockBarWriter,
    StockTickWriter,
    TickWriter,
)


class Repositories:
    """Every repository over one session, for callers that want them all at hand."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.securities = SecurityRepository(session)
        self.chains = OptionChainRepository(session)
        self.ticks = OptionTickRepository(session)
        self.stock_ticks = StockTickRepository(session)
        self.bars = OptionBarRepository(session)
        self.stock_bars = StockBarRepository(session)
        self.opportunities = OpportunityRepository(session)
        self.corporate_actions = CorporateActionRepository(session)
        self.market_events = MarketEventRepository(session)
        self.quality = DataQualityRepository(session)
        self.backtests = BacktestRunRepository(session)


__all__ = [
    "BacktestRunRepository",
    "BufferedWriter",
    "ChainSnapshot",
    "ChunkedCopy",
    "ContractQuote",
    "CopyOutcome",
    "CorporateActionRepository",
    "DataQualityRepository",
    "MarketEventRepository",
    "OpportunityRepository",
    "OptionBarRepository",
    "OptionBarRow",
    "OptionBarWriter",
    "OptionChainRepository",
    "OptionTick",
    "OptionTickRepository",
    "PriceAdjuster",
    "QuoteBar",
    "Repositories",
    "Repository",
    "SecurityRepository",
    "StockBarRepository",
    "StockBarRow",
    "StockBarWriter",
    "StockTick",
    "StockTickRepository",
    "StockTickWriter",
    "TickWriter",
    "WriterCounts",
]
