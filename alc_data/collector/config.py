"""The collector's configuration (defaults from Settings)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from alc_data.config import Settings, default_settings

__all__ = ["CollectorConfig"]


@dataclass(frozen=True)
class CollectorConfig:
    """How the collector chooses, streams, samples and stores contracts.

    Attributes:
        interval_ms: sampling (and flush) interval (``COLLECTION_INTERVAL_MS``).
        expiry_range_days: expiries within this many days (``EXPIRY_RANGE_DAYS``).
        strike_range_percent: strikes within this fraction of the price.
        max_lines: market-data lines the collector may hold (``ALC_MAX_MARKET_DATA_LINES``).
        include_greeks: store delta/gamma/theta/vega (``ALC_INCLUDE_GREEKS``).
        batch_size: waiting rows that trigger an early flush (``ALC_BATCH_SIZE``).
        option_generic_ticks: generic ticks for options (100 volume, 101 OI, 106 IV).
        underlying_generic_ticks: generic ticks for underlyings (233: last and VWAP; 456:
            dividends, stored as ``corporate_actions``).
        dividends_every: seconds between looks at the underlyings' dividends ticks.
        market_data_type: 1 live, 2 frozen, 3 delayed, 4 delayed-frozen.
        max_contracts_per_symbol: cap on each symbol's universe (None: the whole band).
        dwell: seconds a rotating contract keeps its line.
        settle: seconds after a subscription before a contract is sampled.
        retry_after: first wait before a contract refused with 354 is asked for again.
        rediscover_every: seconds between re-discoveries of the universe.
        reconnect_initial / reconnect_max: reconnect backoff bounds (seconds).
        spool_dir: the spool directory (None:
            ``<ALC_DATA_DIR>/collector-spool/<database identity key>/client-<id>``).
        spool_max_bytes: the spool's bound.
        stop_timeout: seconds ``stop_collection`` keeps trying an unavailable database.
        write_timeout: seconds a database write may take before it counts as an outage
            (``ALC_WRITE_TIMEOUT_SECONDS``).
        request_timeout: seconds IB may take to answer a request (discovery, contract
            details, snapshots) before it counts as no answer (``ALC_IB_TIMEOUT_SECONDS``).
        restart_initial / restart_max: backoff bounds (seconds) of a background task that
            raised and is restarted; ``give_up_after`` failures in a row stop the collector.
    """

    interval_ms: int = 100
    expiry_range_days: int = 60
    strike_range_percent: float = 0.20
    max_lines: int = 100
    include_greeks: bool = True
    batch_size: int = 1000
    option_generic_ticks: str = "100,101,106"
    underlying_generic_ticks: str = "233,456"
    dividends_every: float = 5.0
    market_data_type: int = 1
    max_contracts_per_symbol: int | None = None
    dwell: float = 5.0
    settle: float = 0.25
    retry_after: float = 30.0
    rediscover_every: float = 900.0
    reconnect_initial: float = 0.5
    reconnect_max: float = 30.0
    spool_dir: Path | None = None
    spool_max_bytes: int = 512 * 2**20
    stop_timeout: float = 10.0
    write_timeout: float = 10.0
    request_timeout: float = 30.0
    restart_initial: float = 0.1
    restart_max: float = 30.0
    give_up_after: int = 5
    data_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> CollectorConfig:
        """Defaults from ``settings``, then ``overrides``."""
        c = settings.collection
        base = cls(
            interval_ms=c.interval_ms,
            expiry_range_days=c.expiry_range_days,
            strike_range_percent=c.strike_range_percent,
            max_lines=c.max_market_data_lines,
            include_greeks=c.include_greeks,
            batch_size=c.batch_size,
            write_timeout=c.write_timeout_seconds,
            request_timeout=settings.ib.request_timeout_seconds,
            data_dir=settings.database.data_dir,
        )
        return base.with_(**overrides)

    def with_(self, **overrides: Any) -> CollectorConfig:
        """A copy with some fields replaced.

        Raises:
            TypeError: an unknown field.
        """
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown collector settings: {sorted(unknown)}")
        return replace(self, **overrides)

    @property
    def interval(self) -> float:
        """The interval in seconds."""
        return self.interval_ms / 1000.0

    def spool_root(self) -> Path:
        """The directory under which every database's default spools live."""
        data_dir = self.data_dir or default_settings().database.data_dir
        return data_dir / "collector-spool"

    def spool_directory(self, client_id: int, database: str) -> Path:
        """Where this collector spools: per database (``Database.identity().key``) and
        client id, so that rows spooled for one database are never replayed into another."""
        if self.spool_dir is not None:
            return self.spool_dir
        return self.spool_root() / database / f"client-{client_id}"
