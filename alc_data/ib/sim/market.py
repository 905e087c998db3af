"""The market model tests and the server share: quotes, listings and history in one object."""

from __future__ import annotations

from datetime import datetime

from alc_data.ib.sim.core import Bar
from alc_data.ib.sim.history import head_timestamp, request_bars
from alc_data.ib.sim.model import QuoteModel

__all__ = ["MarketModel"]


class MarketModel(QuoteModel):
    """A seeded market (see :class:`~alc_data.ib.sim.model.QuoteModel`) with IB's history.

    ``model.quote(con_id, at)`` is what a subscription shows at ``at``; ``model.bars(...)`` what
    a reqHistoricalData returns; ``model.head_timestamp(...)`` what reqHeadTimeStamp returns.
    """

    def bars(
        self,
        con_id: int,
        *,
        end: datetime | str = "",
        duration: str = "1 D",
        bar_size: str = "1 min",
        what_to_show: str = "MIDPOINT",
        use_rth: bool = False,
    ) -> list[Bar]:
        """History bars with IB's request semantics (see :mod:`alc_data.ib.sim.history`).

        Raises:
            alc_data.ib.sim.core.HistoryError: with the IB error code IB would answer.
        """
        return request_bars(
            self,
            con_id,
            end=end,
            duration=duration,
            bar_size=bar_size,
            what_to_show=what_to_show,
            use_rth=use_rth,
        )

    def head_timestamp(self, con_id: int, *, use_rth: bool = False) -> datetime:
        """The earliest history instant reqHeadTimeStamp reports for ``con_id``.

        Raises:
            KeyError: for an unknown contract id.
        """
        contract = self.contract(con_id)
        if contract is None:
            raise KeyError(con_id)
        return head_timestamp(self, contract, use_rth)
