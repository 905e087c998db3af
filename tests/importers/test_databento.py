"""Databento DBN files built with databento-dbn's own record types and metadata encoder."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import databento_dbn as dbn
import zstandard

from alc_data import Database
from alc_data.importers import import_vendor_files
from alc_data.read import ArrowReader
from tests.support.importing import T0, T0_NS, snapshot, table_rows

PX = 1_000_000_000  # DBN's fixed-point scale: 1e-9
SECOND = 1_000_000_000
CONTRACTS = {  # instrument_id -> OCC raw symbol
    11: "SPY   240315C00510000",
    12: "SPY   240315P00510000",
    13: "SPY   240419C00520500",
}


def metadata(schema: Any, dataset: str = "OPRA.PILLAR", mappings: Any = None) -> bytes:
    return bytes(dbn.Metadata(dataset=dataset, start=T0_NS, stype_in=dbn.SType.RAW_SYMBOL,
                              stype_out=dbn.SType.INSTRUMENT_ID, schema=schema,
                              mappings=mappings or []).encode())  # fmt: skip


def write(path: Path, schema: Any, records: list[Any], **kw: Any) -> Path:
    data = metadata(schema, **kw) + b"".join(bytes(r) for r in records)
    if path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def definition(instrument_id: int, raw_symbol: str, *, uom: int = dbn.UNDEF_PRICE) -> Any:
    right = dbn.InstrumentClass.CALL if raw_symbol[12] == "C" else dbn.InstrumentClass.PUT
    strike = int(raw_symbol[13:]) * PX // 1000
    return dbn.InstrumentDefMsg(
        1, instrument_id, T0_NS - 3600 * SECOND, T0_NS - 3600 * SECOND, PX // 100, PX,
        raw_symbol, "SPY", "OSTK", right, dbn.SecurityUpdateAction.ADD,
        expiration=T0_NS, strike_price=strike, underlying="SPY", unit_of_measure_qty=uom,
    )  # fmt: skip


def cbbo(instrument_id: int, ts: int, bid: int, ask: int, *, bid_sz: int = 5,
         ask_sz: int = 6, price: int = dbn.UNDEF_PRICE, size: int = 0,
         ts_recv: int | None = None) -> Any:  # fmt: skip
    level = dbn.ConsolidatedBidAskPair(bid_px=bid, ask_px=ask, bid_sz=bid_sz, ask_sz=ask_sz)
    return dbn.CBBOMsg(dbn.RType.CBBO_1S, 1, instrument_id, ts, price, size, dbn.Side.NONE,
                       ts if ts_recv is None else ts_recv, levels=level)  # fmt: skip


def reader_of(db: Database) -> ArrowReader:
    return ArrowReader.connect(db.engine.url.render_as_string(hide_password=False))


async def test_definitions_and_cbbo_quotes_with_sentinels_and_collisions(
    db: Database, tmp_path: Path
) -> None:
    defs = write(tmp_path / "opra-definition.dbn", dbn.Schema.DEFINITION,
                 [definition(11, CONTRACTS[11], uom=100 * PX), definition(12, CONTRACTS[12]),
                  definition(13, CONTRACTS[13])])  # fmt: skip
    quotes = write(tmp_path / "opra-cbbo-1s.dbn.zst", dbn.Schema.CBBO_1S, [
        cbbo(11, T0_NS, round(1.20 * PX), round(1.25 * PX), price=round(1.22 * PX), size=3),
        cbbo(12, T0_NS + 250, 2 * PX, dbn.UNDEF_PRICE),  # no ask: NULL, never 9.2e9
        cbbo(13, T0_NS + SECOND, dbn.UNDEF_PRICE, round(4.1 * PX), bid_sz=0),
        cbbo(11, T0_NS + 2 * SECOND + 100, round(1.3 * PX), round(1.4 * PX)),
        cbbo(11, T0_NS + 2 * SECOND + 900, round(1.31 * PX), round(1.41 * PX)),  # same µs: wins
        cbbo(11, dbn.UNDEF_TIMESTAMP, PX, PX, ts_recv=dbn.UNDEF_TIMESTAMP),  # bad record
        cbbo(99, T0_NS, PX, PX),  # no definition of instrument 99
    ])  # fmt: skip
    first = await import_vendor_files(db, "databento", [defs])
    assert (first.rows_read, first.contracts_created) == (3, 3)
    summary = await import_vendor_files(db, "databento", [quotes])
    assert summary.rows_read == 7
    assert summary.rows_written == 4
    assert summary.collapsed == 1
    assert summary.rejected == {"no_timestamp": 1, "unknown_instrument": 1}
    assert [b.record for b in summary.bad_records] == [6, 7]
    with reader_of(db) as reader:
        contracts = {c["contract_id"]: c for c in reader.contracts("SPY").to_pylist()}
        ticks = reader.ticks(symbol="SPY", start=T0, end=T0 + timedelta(seconds=5),
                             source="databento").to_pylist()  # fmt: skip
    assert sorted((c["contract_symbol"], c["multiplier"], c["strike_price"], c["expiration_date"])
                  for c in contracts.values()) == [
        ("SPY   240315C00510000", 100, Decimal("510.0000"), date(2024, 3, 15)),
        ("SPY   240315P00510000", 100, Decimal("510.0000"), date(2024, 3, 15)),
        ("SPY   240419C00520500", 100, Decimal("520.5000"), date(2024, 4, 19)),
    ]  # fmt: skip
    got = [(contracts[t["contract_id"]]["contract_symbol"][12], t["time"], t["bid_price"],
            t["ask_price"], t["bid_size"], t["ask_size"], t["last_price"], t["last_size"])
           for t in ticks]  # fmt: skip
    assert got == [
        ("C", T0, 1.20, 1.25, 5, 6, 1.22, 3),
        ("P", T0, 2.0, None, 5, None, None, None),  # 250 ns: the same microsecond as T0
        ("C", T0 + timedelta(seconds=1), None, 4.1, None, 6, None, None),
        ("C", T0 + timedelta(seconds=2), 1.31, 1.41, 5, 6, None, None),
    ]
    # 2 s + 100 ns and 2 s + 900 ns fall in one microsecond: the later quote is the one kept
    aliases = await table_rows(db, "SELECT alias, valid_from FROM instrument_aliases ORDER BY 1")
    assert aliases == [("11", date(2024, 3, 7)), ("12", date(2024, 3, 7)), ("13", date(2024, 3, 7))]
    before = await snapshot(db)
    again = await import_vendor_files(db, "databento", [defs, quotes])
    assert (again.files_skipped, again.rows_written) == (2, 0)
    assert await snapshot(db) == before


async def test_trades_bars_statistics_and_metadata_mappings(db: Database, tmp_path: Path) -> None:
    mappings = [SimpleNamespace(raw_symbol=CONTRACTS[11], intervals=[SimpleNamespace(
        start_date=date(2024, 3, 7), end_date=date(2024, 3, 8), symbol="11")])]  # fmt: skip
    trades = write(tmp_path / "trades.dbn", dbn.Schema.TRADES, [
        dbn.TradeMsg(1, 11, T0_NS, round(1.21 * PX), 2, dbn.Action.TRADE, dbn.Side.BID, 0, T0_NS),
        dbn.TradeMsg(1, 11, T0_NS + 10, round(1.22 * PX), 3, dbn.Action.TRADE, dbn.Side.ASK, 0,
                     T0_NS + 10),
    ], mappings=mappings)  # fmt: skip
    bars = write(tmp_path / "ohlcv-1m.dbn", dbn.Schema.OHLCV_1M, [
        dbn.OHLCVMsg(dbn.RType.OHLCV_1M, 1, 11, T0_NS, round(1.2 * PX), round(1.3 * PX),
                     round(1.1 * PX), round(1.25 * PX), 40),
    ], mappings=mappings)  # fmt: skip
    stats = write(tmp_path / "statistics.dbn", dbn.Schema.STATISTICS, [
        dbn.StatMsg(1, 11, T0_NS + 5 * SECOND, T0_NS + 5 * SECOND, dbn.UNDEF_TIMESTAMP,
                    dbn.UNDEF_PRICE, 1234, dbn.StatType.OPEN_INTEREST),
        dbn.StatMsg(1, 11, T0_NS + 6 * SECOND, T0_NS + 6 * SECOND, dbn.UNDEF_TIMESTAMP,
                    dbn.UNDEF_PRICE, dbn.UNDEF_STAT_QUANTITY, dbn.StatType.OPEN_INTEREST),
    ], mappings=mappings)  # fmt: skip
    summary = await import_vendor_files(db, "databento", [trades, bars, stats])
    assert (summary.rows_read, summary.rows_written) == (5, 3)  # the symbology is no record
    window = {"start": T0, "end": T0 + timedelta(minutes=1)}
    with reader_of(db) as reader:
        ids = [c["contract_id"] for c in reader.contracts("SPY").to_pylist()]
        traded = reader.ticks(ids, source="databento-trades", **window).to_pylist()
        bar = reader.stored_bars(ids, bar_size="1 min", what_to_show="TRADES", **window)
        oi = reader.ticks(ids, source="databento", **window).to_pylist()
    assert [(t["last_price"], t["last_size"]) for t in traded] == [(1.22, 5)]
    assert [(b["open"], b["close"], b["volume"]) for b in bar.to_pylist()] == [(1.2, 1.25, 40.0)]
    assert [(t["open_interest"], t["bid_price"], t["tick_type"]) for t in oi] == [
        (1234, None, "SNAPSHOT")
    ]


async def test_equities_mbp1_become_stock_ticks(db: Database, tmp_path: Path) -> None:
    mappings = [SimpleNamespace(raw_symbol="AAPL", intervals=[SimpleNamespace(
        start_date=date(2024, 3, 7), end_date=date(2024, 3, 8), symbol="38")])]  # fmt: skip
    level = dbn.BidAskPair(bid_px=170 * PX, ask_px=round(170.02 * PX), bid_sz=300, ask_sz=200)
    path = write(tmp_path / "xnas-mbp-1.dbn", dbn.Schema.MBP_1, [
        dbn.MBP1Msg(1, 38, T0_NS, round(170.01 * PX), 100, dbn.Action.TRADE, dbn.Side.BID, 0,
                    T0_NS + 40, levels=level),
    ], dataset="XNAS.ITCH", mappings=mappings)  # fmt: skip
    summary = await import_vendor_files(db, "databento", [path])
    assert summary.rows_written == 1
    with reader_of(db) as reader:
        ticks = reader.stock_ticks("AAPL", start=T0, end=T0 + timedelta(seconds=1)).to_pylist()
    assert [(t["time"], t["price"], t["bid_price"], t["ask_price"], t["bid_size"])
            for t in ticks] == [(datetime(2024, 3, 7, 15, tzinfo=UTC), 170.01, 170.0, 170.02,
                                 300.0)]  # fmt: skip
