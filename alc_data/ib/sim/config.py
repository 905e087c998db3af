"""How a simulated gateway behaves (:class:`SimConfig`), checked when it is made."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from alc_data.ib.pacing import PacingRules
from alc_data.ib.sim.scenario import Scenario

__all__ = ["MIN_UPDATE_INTERVAL", "SimConfig"]

#: Below this, the market-data loop would keep a core busy and starve clients.
MIN_UPDATE_INTERVAL = 0.01


@dataclass
class SimConfig:
    """How the simulated gateway behaves.

    Attributes:
        seed: the market model's seed (same seed, same data).
        lines: market-data lines for the whole account (IB's default is 100); one more
            subscription gets error 101.
        calendar: stream live data only in regular sessions (frozen data outside); by default
            live data streams at any hour (history follows the calendar either way).
        history_days: history depth (default two years).
        update_interval: seconds between market-data updates (at least 10 ms).
        greeks_interval: at most one option-computation update per subscription this often
            (IB throttles greeks more than quotes).
        account: the managed account reported at start-up; the default, ``SIMULATED``, starts
            with ``SIM``, which is how alc-data records rows as the simulator's
            (:mod:`alc_data.ib.provenance`), never as a broker paper account's (``DU...``).
        pacing: the historical-data pacing rules enforced with error 162.
        max_messages_per_second: IB's limit on client messages (error 100 above it; 0: none).
        rate_stall_allowance: allow for messages that arrive bunched up because the event loop
            was blocked (in a test, the collector and the simulator share one loop): the limit
            grows by the share of the last second the loop was blocked. Off: the bare limit.
        scenario: opportunities to plant (see :mod:`alc_data.ib.sim.scenario`), or None.
        scenario_start: what the scenario's offsets count from (default: the clock's now when
            the gateway is made).
        implied: "reject" a scenario whose moves create opportunities it does not list, or
            "list" them among the planted (see :class:`alc_data.ib.sim.planting.Planter`).

    Raises:
        ValueError: for an update interval below 10 ms (or not finite), or negative lines.
    """

    seed: int = 1
    lines: int = 100
    calendar: bool = False
    history_days: int = 730
    update_interval: float = 0.25
    greeks_interval: float = 0.25
    account: str = "SIMULATED"
    pacing: PacingRules = field(default_factory=PacingRules)
    max_messages_per_second: int = 50
    rate_stall_allowance: bool = True
    scenario: Scenario | None = None
    scenario_start: datetime | None = None
    implied: str = "reject"

    def __post_init__(self) -> None:
        interval = self.update_interval
        if not math.isfinite(interval) or interval < MIN_UPDATE_INTERVAL:
            raise ValueError(
                f"update interval must be at least {MIN_UPDATE_INTERVAL * 1000:.0f} ms, "
                f"got {interval!r} s"
            )
        if self.lines < 0:
            raise ValueError(f"lines must be >= 0, got {self.lines}")
        if self.max_messages_per_second < 0:
            raise ValueError(
                f"max_messages_per_second must be >= 0, got {self.max_messages_per_second}"
            )
        if self.history_days < 1:
            raise ValueError(f"history_days must be >= 1, got {self.history_days}")
