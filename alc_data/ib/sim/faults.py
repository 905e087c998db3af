"""Scripted faults: what a test can make the simulated gateway do wrong.

Every fault surfaces in ib_async exactly as it would from a real gateway: a dropped socket
(``disconnectedEvent``; reconnecting works), requests that are never (or only late) answered (the
``*Async`` call times out), error 1100/1101/1102 connectivity messages, error 354 for market data
without a subscription, and error 162 pacing violations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["MSG_1100", "MSG_1101", "MSG_1102", "REQUEST_KINDS", "FaultTarget", "Faults"]

#: Request kinds a stall can target ("all" = every request after the handshake).
REQUEST_KINDS = frozenset(
    {
        "all",
        "contract_details",
        "sec_def",
        "market_data",
        "history",
        "head_timestamp",
        "current_time",
        "startup",
    }
)

MSG_1100 = "Connectivity between IB and Trader Workstation has been lost."
MSG_1101 = "Connectivity between IB and Trader Workstation has been restored - data lost.*"
MSG_1102 = (
    "Connectivity between IB and Trader Workstation has been restored - data "
    "maintained. All data farms are connected: usfarm; ushmds; secdefnj."
)


class FaultTarget(Protocol):
    """What faults act on: the gateway's connections."""

    async def drop_connections(self, client_id: int | None) -> None: ...

    def broadcast_error(self, code: int, message: str) -> None: ...

    def drop_subscriptions(self) -> None: ...


@dataclass
class Faults:
    """The fault switches of one simulated gateway."""

    target: FaultTarget
    stalled: dict[str, float | None] = field(default_factory=dict)
    not_subscribed: set[str] = field(default_factory=set)
    pacing_violations: int = 0
    connectivity_lost: bool = False

    def stall(self, *kinds: str, delay: float | None = None) -> None:
        """Stop answering requests of these kinds (never, or only after ``delay`` seconds)."""
        unknown = set(kinds) - REQUEST_KINDS
        if unknown:
            raise ValueError(
                f"unknown request kinds {sorted(unknown)}; use {sorted(REQUEST_KINDS)}"
            )
        for kind in kinds or ("all",):
            self.stalled[kind] = delay

    def unstall(self) -> None:
        """Answer every request normally again (requests already stalled stay unanswered)."""
        self.stalled.clear()

    def stall_for(self, kind: str) -> tuple[bool, float | None]:
        """Whether a request of ``kind`` is stalled, and the delay if it is answered late."""
        for key in (kind, "all"):
            if key in self.stalled:
                return True, self.stalled[key]
        return False, None

    def deny_market_data(self, *symbols: str) -> None:
        """Answer reqMktData for these underlyings (and their options) with error 354."""
        self.not_subscribed.update(s.upper() for s in symbols)

    def allow_market_data(self) -> None:
        """Undo :meth:`deny_market_data`."""
        self.not_subscribed.clear()

    def violate_pacing(self, count: int = 1) -> None:
        """Answer the next ``count`` history requests with error 162 (pacing violation)."""
        self.pacing_violations += count

    def take_pacing_violation(self) -> bool:
        """Consume one scripted pacing violation, if any is pending."""
        if self.pacing_violations > 0:
            self.pacing_violations -= 1
            return True
        return False

    async def drop_connections(self, client_id: int | None = None) -> None:
        """Close client sockets abruptly (all, or one client id); new connections still work."""
        await self.target.drop_connections(client_id)

    def lose_connectivity(self) -> None:
        """Send error 1100 to every client and stop market-data updates."""
        self.connectivity_lost = True
        self.target.broadcast_error(1100, MSG_1100)

    def restore_connectivity(self, data_lost: bool = False) -> None:
        """Send 1102 (data maintained) or 1101 (data lost: subscriptions are dropped)."""
        self.connectivity_lost = False
        if data_lost:
            self.target.drop_subscriptions()
            self.target.broadcast_error(1101, MSG_1101)
        else:
            self.target.broadcast_error(1102, MSG_1102)
