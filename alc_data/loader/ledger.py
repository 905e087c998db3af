"""``PacingLedger``: IB's history pacing windows of one gateway, shared through the database.

IB counts every history request a gateway (``host:port``) receives, whatever process or
connection sent it. Loaders in one process share one :class:`~alc_data.loader.PacingScheduler`;
loaders in *different* processes (or machines) that write to the same database admit their
hard-rule requests (bars of 30 s or less) through the ``history_pacing_ledger`` table:

- admission takes a transaction-scoped advisory lock per gateway, reads the gateway's recent
  entries, and asks a :class:`~alc_data.ib.pacing.PacingTracker` built from them whether the
  request breaks a rule *now* (the database server's clock: one clock for every process);
- an admitted request is written as *in flight* (``answered_at`` NULL); while any request of the
  gateway is in flight, no other is admitted (the one-at-a-time rule of the scheduler, across
  processes), and its time in the windows is its answer time, never earlier than IB's;
- an entry left in flight by a process that died counts as answered ``lease`` seconds after
  its admission, so a crash delays the other loaders but never blocks them for good.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text

from alc_data.db.database import Database
from alc_data.db.translate import translating
from alc_data.ib.pacing import HistoricalRequestKey, PacingRules, PacingTracker

__all__ = ["Admission", "PacingLedger", "gateway_name"]

_LOOPBACK = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('alc_history_pacing:' || :gw))"
_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8"
_FORGET = (
    "DELETE FROM history_pacing_ledger WHERE gateway = :gw AND "
    "coalesce(answered_at, admitted_at + make_interval(secs => :lease)) "
    "< clock_timestamp() - make_interval(secs => :horizon)"
)
_ENTRIES = (
    "SELECT owner, contract, exchange, what_to_show, bar_size, duration, end_time, use_rth, "
    "extract(epoch FROM admitted_at)::float8, extract(epoch FROM answered_at)::float8 "
    "FROM history_pacing_ledger WHERE gateway = :gw"
)
_ADMIT = (
    "INSERT INTO history_pacing_ledger (gateway, owner, contract, exchange, what_to_show, "
    "bar_size, duration, end_time, use_rth, admitted_at) VALUES (:gw, :owner, :contract, "
    ":exchange, :what, :bar_size, :duration, :end_time, :use_rth, clock_timestamp()) "
    "RETURNING id"
)
_ANSWERED = "UPDATE history_pacing_ledger SET answered_at = clock_timestamp() WHERE id = :id"


def gateway_name(host: str, port: int) -> str:
    """The ledger's name of a gateway: ``host:port``, every loopback spelling as ``localhost``."""
    name = host.strip().lower()
    if name in _LOOPBACK or name.startswith("127."):
        name = "localhost"
    return f"{name}:{port}"


@dataclass(frozen=True)
class Admission:
    """The ledger's answer: admitted (``entry`` set), or wait ``wait`` seconds.

    ``blocker`` names the other loader whose requests made this one wait (None when the wait
    comes from this loader's own requests).
    """

    entry: int | None
    wait: float
    blocker: str | None = None


class PacingLedger:
    """Admits hard-rule history requests of one gateway across processes (module docstring).

    Args:
        db: the database every cooperating loader writes to.
        gateway: :func:`gateway_name` of the gateway.
        rules: IB's pacing rules (the time scale included).
        lease: seconds after which an entry still in flight counts as answered (its process
            died); IB seconds, scaled by ``rules.time_scale``.
        poll: seconds between two looks while another process has a request in flight.
    """

    def __init__(
        self,
        db: Database,
        gateway: str,
        rules: PacingRules,
        *,
        lease: float = 120.0,
        poll: float = 0.05,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.rules = rules
        self.lease = rules.scaled(lease)
        self.poll = poll
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:128]

    @property
    def _horizon(self) -> float:
        r = self.rules
        return r.scaled(max(r.window, r.identical_window, r.same_contract_window))

    async def admit(self, key: HistoricalRequestKey) -> Admission:
        """Admit ``key`` now (recording it in flight), or say how long to wait."""
        gw = {"gw": self.gateway}
        with translating():  # a database at revision 0004: SchemaError, "is it migrated?"
            return await self._admit(key, gw)

    async def _admit(self, key: HistoricalRequestKey, gw: dict[str, str]) -> Admission:
        async with self.db.begin() as conn:
            await conn.execute(text(_LOCK), gw)
            now = float((await conn.execute(text(_NOW))).scalar_one())
            await conn.execute(text(_FORGET), gw | {"lease": self.lease, "horizon": self._horizon})
            rows = (await conn.execute(text(_ENTRIES), gw)).all()
            tracker, in_flight = self._tracker(rows, now)
            if in_flight is not None:
                return Admission(None, self.poll, in_flight if in_flight != self.owner else None)
            wait = tracker.wait_time(key, now)
            if wait > 0:
                others = {r[0] for r in rows if r[0] != self.owner}
                return Admission(None, wait, min(others) if others else None)
            values = gw | {"owner": self.owner} | self._values(key)
            entry = (await conn.execute(text(_ADMIT), values)).scalar_one()
        return Admission(int(entry), 0.0)

    async def answered(self, entry: int) -> None:
        """Record that the request admitted as ``entry`` was answered (or abandoned)."""
        with translating():
            async with self.db.begin() as conn:
                await conn.execute(text(_ANSWERED), {"id": entry})

    def _tracker(self, rows: Sequence[Row[Any]], now: float) -> tuple[PacingTracker, str | None]:
        """The gateway's windows, and the owner of a request in flight (if any)."""
        timed: list[tuple[float, HistoricalRequestKey]] = []
        in_flight: str | None = None
        for row in rows:
            owner, contract, exchange, what, bar_size, duration, end, rth, admitted, answered = (
                tuple(row)
            )
            if answered is None and admitted + self.lease > now:
                in_flight = owner
                continue
            at = float(answered) if answered is not None else float(admitted) + self.lease
            key = HistoricalRequestKey(contract, exchange, what, bar_size, duration, end, rth)
            timed.append((at, key))
        tracker = PacingTracker(self.rules)
        for at, key in sorted(timed, key=lambda e: e[0]):
            tracker.record(key, at)
        return tracker, in_flight

    @staticmethod
    def _values(key: HistoricalRequestKey) -> dict[str, object]:
        return {
            "contract": key.contract, "exchange": key.exchange, "what": key.what_to_show,
            "bar_size": key.bar_size, "duration": key.duration, "end_time": key.end,
            "use_rth": key.use_rth,
        }  # fmt: skip
