"""What alc-data needs from Interactive Brokers, as an interface, and its ib_async adapter.

The collector and the loader talk to IB only through :class:`MarketDataGateway` (a
``Protocol``); :class:`IBGateway` implements it over an ``ib_async.IB`` client. IB's camelCase
API, its events and its objects' attributes stop in this package: callers see snake_case calls,
conIds and plain values (the contracts and tickers they hold are opaque handles passed back
here or to :mod:`alc_data.ib.parse`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

from ib_async import IB

from alc_data.ib import discovery
from alc_data.ib.discovery import Universe

__all__ = ["ErrorHandler", "IBGateway", "MarketDataGateway", "as_gateway"]

#: ``(request id, IB error code, message, conId or 0, contract description)``.
ErrorHandler = Callable[[int, int, str, int, str], None]


@runtime_checkable
class MarketDataGateway(Protocol):
    """The IB connection as the collector uses it."""

    @property
    def client_id(self) -> int:
        """The API client id of the connection."""
        ...

    def is_connected(self) -> bool:
        """True while the socket to TWS / IB Gateway (or the simulator) is up."""
        ...

    async def reconnect(self, *, handshake_within: float) -> None:
        """Open the connection again (same host, port and client id)."""
        ...

    def accounts(self) -> list[str]:
        """The accounts the connection manages (IB's managedAccounts message)."""
        ...

    def set_market_data_type(self, kind: int) -> None:
        """1 live, 2 frozen, 3 delayed, 4 delayed-frozen (``reqMarketDataType``)."""
        ...

    def subscribe(self, contract: Any, generic_ticks: str) -> Any:
        """Stream a contract's market data; returns its ticker (``reqMktData``)."""
        ...

    def unsubscribe(self, contract: Any) -> None:
        """Stop streaming a contract (``cancelMktData``)."""
        ...

    def listen(
        self,
        *,
        on_updates: Callable[[set[int]], None],
        on_error: ErrorHandler,
        on_disconnected: Callable[[], None],
    ) -> None:
        """Call ``on_updates`` with the conIds that ticked, ``on_error`` with IB's errors,
        ``on_disconnected`` when the socket drops (until :meth:`stop_listening`)."""
        ...

    def stop_listening(self) -> None:
        """Undo :meth:`listen`."""
        ...

    async def discover(
        self,
        symbol: str,
        *,
        expiry_range_days: int,
        strike_range_percent: float,
        max_contracts: int | None,
        answer_within: float,
    ) -> Universe:
        """The underlying and its option contracts in the bands (see :mod:`.discovery`)."""
        ...


class IBGateway:
    """:class:`MarketDataGateway` over a connected ``ib_async.IB`` client."""

    def __init__(self, ib: IB) -> None:
        self.ib = ib
        self._handlers: tuple[Any, Any, Any] | None = None

    @property
    def client_id(self) -> int:
        return int(self.ib.client.clientId)

    def is_connected(self) -> bool:
        return bool(self.ib.isConnected())

    async def reconnect(self, *, handshake_within: float) -> None:
        client = self.ib.client
        await self.ib.connectAsync(
            str(client.host),
            int(client.port),
            clientId=int(client.clientId),
            timeout=handshake_within,
        )

    def accounts(self) -> list[str]:
        return [str(a) for a in self.ib.managedAccounts()]

    def set_market_data_type(self, kind: int) -> None:
        self.ib.reqMarketDataType(kind)

    def subscribe(self, contract: Any, generic_ticks: str) -> Any:
        return self.ib.reqMktData(contract, generic_ticks, False, False)

    def unsubscribe(self, contract: Any) -> None:
        self.ib.cancelMktData(contract)

    def listen(
        self,
        *,
        on_updates: Callable[[set[int]], None],
        on_error: ErrorHandler,
        on_disconnected: Callable[[], None],
    ) -> None:
        def pending(tickers: Iterable[Any]) -> None:
            on_updates({t.contract.conId for t in tickers if t.contract is not None})

        def error(req_id: int, code: int, message: str, contract: Any) -> None:
            con_id = int(getattr(contract, "conId", 0) or 0)
            on_error(req_id, code, message, con_id, describe(contract))

        self.stop_listening()
        self._handlers = (pending, error, on_disconnected)
        self.ib.pendingTickersEvent += pending
        self.ib.errorEvent += error
        self.ib.disconnectedEvent += on_disconnected

    def stop_listening(self) -> None:
        if self._handlers is None:
            return
        pending, error, disconnected = self._handlers
        self._handlers = None
        self.ib.pendingTickersEvent -= pending
        self.ib.errorEvent -= error
        self.ib.disconnectedEvent -= disconnected

    async def discover(
        self,
        symbol: str,
        *,
        expiry_range_days: int,
        strike_range_percent: float,
        max_contracts: int | None,
        answer_within: float,
    ) -> Universe:
        return await discovery.discover(
            self.ib,
            symbol,
            expiry_range_days=expiry_range_days,
            strike_range_percent=strike_range_percent,
            max_contracts=max_contracts,
            answer_within=answer_within,
        )


def describe(contract: Any) -> str:
    """A contract for a log line: its local symbol (or symbol) and conId."""
    if contract is None:
        return "no contract"
    local = getattr(contract, "localSymbol", "") or getattr(contract, "symbol", "")
    return f"{local} (conId {getattr(contract, 'conId', '?')})"


def as_gateway(ib: MarketDataGateway | IB) -> MarketDataGateway:
    """The documented constructors take an ``ib_async.IB``: wrap it (a gateway passes)."""
    if isinstance(ib, IB):
        return IBGateway(ib)
    return ib
