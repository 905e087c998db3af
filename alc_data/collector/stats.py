"""``get_stats()``: the collector's counters and state as one JSON-friendly dict.

Keys:

- ``ticks_collected``: rows sampled (option + underlying rows); ``ticks_inserted``: rows the
  database confirmed; per table in ``option_ticks`` / ``stock_ticks`` (``collected``,
  ``inserted``, ``spooled``, ``replayed``, ``recovered``, ``shed``, ``rejected``). Once the
  collector has stopped with the database up, ``ticks_collected == ticks_inserted + shed +
  rejected``; ``recovered`` counts rows a previous run left in the spool;
- ``errors`` (every error counted, rejected rows included), ``errors_by_kind`` (see
  :func:`errors_by_kind`), ``errors_by_code`` (IB's), ``last_error``;
- ``tasks`` (each background task's ``state``, ``failures``, ``restarts``, ``last_error``),
  ``healthy`` (collecting, and every task running);
- ``active_contracts`` (options in the universe), ``subscribed_contracts``,
  ``collection_active``, ``lines_in_use``, ``line_budget``, ``rotating``, ``rotations``,
  ``line_refusals``, ``dropped_contracts``, ``coverage`` (contracts with at least one row,
  of how many; fewest rows; longest seconds since a contract's last row);
- ``buffer_size`` (rows in memory), ``spooled_rows`` / ``spool_bytes`` (on disk),
  ``spool_full``, ``shed_rows``, ``db_available``, ``db_outages``;
- ``connected``, ``reconnects``, ``reconnect_attempts``, ``gaps`` (the last 20),
  ``gap_seconds``;
- ``symbols``: per symbol ``contracts``, ``subscribed``, ``ticks``, ``stock_ticks``, ``spot``;
- ``latency_ms_p50`` / ``latency_ms_p99`` (from receipt of an update to its commit),
  ``started_at``, ``uptime_seconds``, ``rediscoveries``, ``discovery_errors``;
- ``source``: the ``data_sources`` name its rows are recorded under (``ib-paper``, ...);
- ``waiting_spools``: spools under the data directory holding rows for *other* databases
  (``directory``, ``database``, ``rows``, ``bytes``), also logged at start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from alc_data.collector.sink import OPTION_TABLE, STOCK_TABLE, TableCounts

if TYPE_CHECKING:
    from alc_data.collector.collector import OptionsDataCollector

__all__ = ["build_stats", "errors_by_kind", "percentile"]


def percentile(values: list[float], pct: float) -> float | None:
    """The nearest-rank ``pct`` percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def build_stats(c: OptionsDataCollector) -> dict[str, Any]:
    """The stats of collector ``c`` (see the module doc)."""
    tasks = {name: state.as_dict() for name, state in c.supervisor.states.items()}
    stats: dict[str, Any] = {"collection_active": c.collection_active, "tasks": tasks}
    stats["healthy"] = c.collection_active and all(
        t["state"] in ("running", "done") for t in tasks.values()
    )
    stats.update(_rows(c))
    stats.update(_lines(c))
    stats.update(_connection(c))
    stats["symbols"] = _symbols(c)
    stats["started_at"] = c.started_at.isoformat() if c.started_at else None
    stats["uptime_seconds"] = (
        round((datetime.now(UTC) - c.started_at).total_seconds(), 3) if c.started_at else 0.0
    )
    stats["source"] = c.source.name if c.source is not None else None
    stats["rediscoveries"] = c.rediscoveries
    stats["dividends_stored"] = c.dividends.stored
    stats["discovery_errors"] = dict(c.discovery_errors)
    stats["waiting_spools"] = [
        {"directory": str(w.directory), "database": w.database, "rows": w.rows, "bytes": w.size}
        for w in c.waiting_spools
    ]
    return stats


def _rows(c: OptionsDataCollector) -> dict[str, Any]:
    sink = c.sink
    option = sink.counts(OPTION_TABLE) if sink else TableCounts()
    stock = sink.counts(STOCK_TABLE) if sink else TableCounts()
    latencies = list(sink.latencies_ms) if sink else []
    by_kind = errors_by_kind(c)
    rejected = option.rejected + stock.rejected
    return {
        "ticks_collected": option.collected + stock.collected,
        "ticks_inserted": option.inserted + stock.inserted,
        "option_ticks": option.as_dict(),
        "stock_ticks": stock.as_dict(),
        "errors": sum(by_kind.values()) + rejected,
        "errors_by_kind": by_kind,
        "errors_by_code": {str(k): v for k, v in sorted(c.streams.errors.items())},
        "last_error": (sink.last_error if sink and not sink.live else None)
        or (str(c.failure) if c.failure else None)
        or _latest_task_error(c)
        or c.sampler.last_error
        or (c.keeper.last_error if c.keeper else None)
        or c.streams.last_error
        or (sink.last_error if sink else None),
        "buffer_size": sink.buffered() if sink else 0,
        "spooled_rows": sink.spool.rows if sink else 0,
        "spool_bytes": sink.spool.size if sink else 0,
        "spool_full": sink.spool.full if sink else False,
        "shed_rows": option.shed + stock.shed,
        "db_available": sink.live if sink else True,
        "db_outages": sink.outages if sink else 0,
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p99": percentile(latencies, 99),
    }


def errors_by_kind(c: OptionsDataCollector) -> dict[str, int]:
    """Every error counted so far, by kind: ``ib:<code>``, ``sample:<Type>``,
    ``task:<name>:<Type>``, ``reconnect:resubscribe:<Type>`` and the sink's (``database_
    unavailable``, ``internal``, ``write_refused``, ``unspoolable_row``,
    ``spool_segment_damaged``, ``sink:<Type>``)."""
    kinds = {f"ib:{code}": n for code, n in sorted(c.streams.errors.items())}
    for part in (
        c.sampler.errors,
        c.supervisor.errors_by_kind(),
        c.keeper.errors if c.keeper else {},
        c.dividends.errors,
        c.sink.errors if c.sink else {},
    ):
        kinds.update(part)
    return kinds


def _latest_task_error(c: OptionsDataCollector) -> str | None:
    failing = [s for s in c.supervisor.states.values() if s.state != "running" and s.last_error]
    return failing[-1].last_error if failing else None


def _lines(c: OptionsDataCollector) -> dict[str, Any]:
    s = c.scheduler
    options = [k for k in s.options if k not in s.dropped]
    covered = [s.coverage[k] for k in options if k in s.coverage]
    now = datetime.now(UTC)
    stale = [(now - cov.last_row).total_seconds() for cov in covered if cov.last_row]
    return {
        "active_contracts": len(options),
        "subscribed_contracts": len([k for k in s.active if k not in set(s.pinned)]),
        "lines_in_use": s.in_use(),
        "line_budget": s.budget,
        "rotating": s.rotating,
        "rotations": s.rotations,
        "line_refusals": s.line_refusals,
        "dropped_contracts": len(s.dropped),
        "coverage": {
            "contracts": len(options),
            "covered": sum(1 for cov in covered if cov.rows),
            "fewest_rows": min((cov.rows for cov in covered), default=0),
            "longest_since_last_row_s": round(max(stale), 3) if stale else None,
        },
    }


def _connection(c: OptionsDataCollector) -> dict[str, Any]:
    keeper = c.keeper
    gaps = keeper.gaps if keeper else []
    return {
        "connected": keeper.connected if keeper else c.ib.is_connected(),
        "reconnects": keeper.reconnects if keeper else 0,
        "reconnect_attempts": keeper.reconnect_attempts if keeper else 0,
        "gaps": [g.as_dict() for g in gaps[-20:]],
        "gap_seconds": round(sum(g.seconds for g in gaps), 3),
    }


def _symbols(c: OptionsDataCollector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    active = set(c.scheduler.active)
    for symbol, reg in c.universes.items():
        ids = [x.con_id for x in reg.universe.contracts]
        counts = c.sampler.rows_by_symbol.get(symbol, {})
        out[symbol] = {
            "contracts": len(ids),
            "subscribed": sum(1 for i in ids if i in active),
            "ticks": counts.get("ticks", 0),
            "stock_ticks": counts.get("stock_ticks", 0),
            "spot": reg.universe.spot,
        }
    return out
