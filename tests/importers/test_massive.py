"""Massive flat files: quotes, trades and aggs imported, read back through the public API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from alc_data import Database
from alc_data.importers import ImportOptions, import_vendor_files
from alc_data.read import ArrowReader
from tests.support.importing import T0, T0_NS, snapshot, table_rows, write_csv_gz

QUOTES = ["ticker", "ask_exchange", "ask_price", "ask_size", "bid_exchange", "bid_price",
          "bid_size", "sequence_number", "sip_timestamp"]  # fmt: skip
STOCK_QUOTES = ["ticker", "ask_exchange", "ask_price", "ask_size", "bid_exchange", "bid_price",
                "bid_size", "conditions", "indicators", "participant_timestamp",
                "sequence_number", "sip_timestamp", "tape", "trf_timestamp"]  # fmt: skip
TRADES = ["ticker", "conditions", "correction", "exchange", "participant_timestamp", "price",
          "sip_timestamp", "size"]  # fmt: skip
AGGS = ["ticker", "volume", "open", "close", "high", "low", "window_start", "transactions"]
SECOND = 1_000_000_000
CALL = "O:SPY240315C00510000"
PUT = "O:SPY240315P00505500"
LATER = "O:SPY240419C00520000"


def quotes_file(path: Path) -> Path:
    rows: list[list[object]] = [
        [CALL, 301, "1.25", 10, 302, "1.20", 5, 1, T0_NS],
        [PUT, 301, "2.10", 3, 302, "2.00", "", 2, T0_NS + 1_500],  # missing bid size
        [LATER, 301, "4.10", 7, 302, "", "", 3, T0_NS + SECOND],  # no bid at all
        ["O:SPY24031", 301, "1", 1, 302, "1", 1, 4, T0_NS],  # bad ticker
        [CALL, 301, "1.30", 10],  # bad record: too few fields
        [CALL, 301, "1.35", 11, 302, "1.25", 6, 6, T0_NS + 2 * SECOND],
        [CALL, 301, "1.36", 12, 302, "1.26", 7, 7, T0_NS + 2 * SECOND + 400],  # same µs
        [CALL, 301, "x", 12, 302, "1.26", 7, 8, T0_NS + 3 * SECOND],  # bad number
    ]
    return write_csv_gz(path, QUOTES, rows)


def reader_of(db: Database) -> ArrowReader:
    return ArrowReader.connect(db.engine.url.render_as_string(hide_password=False))


async def test_quotes_are_imported_and_read_back_with_bad_records_reported(
    db: Database, tmp_path: Path
) -> None:
    path = quotes_file(tmp_path / "2024-03-07.csv.gz")
    summary = await import_vendor_files(db, "massive", [path])
    assert summary.rows_read == 8
    assert summary.rows_written == 4
    assert summary.collapsed == 1
    assert summary.rejected == {"bad_record": 1, "bad_symbol": 1, "bad_value": 1}
    assert [(b.record, b.reason) for b in summary.bad_records] == [
        (4, "bad_symbol"), (5, "bad_record"), (8, "bad_value"),
    ]  # fmt: skip
    assert all(b.path == path for b in summary.bad_records)
    stored = await table_rows(db, "SELECT status, rows_read, rows_written, rejected "
                              "FROM import_files")  # fmt: skip
    assert stored == [("done", 8, 4, '{"bad_value": 1, "bad_record": 1, "bad_symbol": 1}')]
    with reader_of(db) as reader:
        ticks = reader.ticks(symbol="SPY", start=T0, end=T0 + timedelta(minutes=1)).to_pylist()
        contracts = {c["contract_id"]: c for c in reader.contracts("SPY").to_pylist()}
    got = []
    for t in ticks:
        c = contracts[t["contract_id"]]
        got.append((c["expiration_date"], c["strike_price"], c["option_type"], t["time"],
                    t["bid_price"], t["ask_price"], t["bid_size"], t["ask_size"]))  # fmt: skip
    march, april = date(2024, 3, 15), date(2024, 4, 19)
    assert got == [
        (march, Decimal("510.0000"), "C", T0, 1.20, 1.25, 5, 10),
        (march, Decimal("505.5000"), "P", T0 + timedelta(microseconds=1), 2.00, 2.10, None, 3),
        (april, Decimal("520.0000"), "C", T0 + timedelta(seconds=1), None, 4.10, None, 7),
        (march, Decimal("510.0000"), "C", T0 + timedelta(seconds=2), 1.26, 1.36, 7, 12),
    ]
    symbols = await table_rows(db, "SELECT contract_symbol, trading_class, multiplier "
                               "FROM option_chains ORDER BY id")  # fmt: skip
    assert symbols == [("SPY   240315C00510000", "SPY", 100), ("SPY   240315P00505500", "SPY", 100),
                       ("SPY   240419C00520000", "SPY", 100)]  # fmt: skip


async def test_a_reimport_changes_nothing_and_an_overlapping_file_adds_only_the_new(
    db: Database, tmp_path: Path
) -> None:
    path = quotes_file(tmp_path / "day.csv.gz")
    first = await import_vendor_files(db, "massive", [path])
    assert first.rows_written == 4  # positive control: the first import wrote
    before = await snapshot(db)
    again = await import_vendor_files(db, "massive", [path])
    assert (again.files_skipped, again.rows_read, again.rows_written) == (1, 0, 0)
    forced = await import_vendor_files(db, "massive", [path], options=ImportOptions(again=True))
    assert (forced.rows_read, forced.rows_written, forced.duplicates) == (8, 0, 4)
    assert await snapshot(db) == before
    overlapping = write_csv_gz(tmp_path / "longer.csv.gz", QUOTES, [
        [CALL, 301, "1.25", 10, 302, "1.20", 5, 1, T0_NS],
        [CALL, 301, "1.40", 10, 302, "1.30", 5, 9, T0_NS + 9 * SECOND],
    ])  # fmt: skip
    more = await import_vendor_files(db, "massive", [overlapping])
    assert (more.rows_written, more.duplicates) == (1, 1)


async def test_trades_go_under_the_trades_source_and_never_collide_with_quotes(
    db: Database, tmp_path: Path
) -> None:
    quotes = quotes_file(tmp_path / "quotes.csv.gz")
    trades = write_csv_gz(tmp_path / "trades.csv.gz", TRADES, [
        [CALL, "", "", 301, T0_NS, "1.22", T0_NS, 3],  # the instant of a quote
        [CALL, "", "", 301, T0_NS + 100, "1.23", T0_NS + 100, 2],  # same µs: one trade of 5
        ["SPY", "12", "", 4, T0_NS, "510.5", T0_NS, 100],
    ])  # fmt: skip
    await import_vendor_files(db, "massive", [quotes])
    summary = await import_vendor_files(db, "massive", [trades])
    assert (summary.rows_written, summary.collapsed) == (2, 1)
    with reader_of(db) as reader:
        start, end = T0, T0 + timedelta(seconds=1)
        traded = reader.ticks(
            symbol="SPY", source="massive-trades", start=start, end=end
        ).to_pylist()
        quoted = reader.ticks(symbol="SPY", source="massive", start=start, end=end).to_pylist()
        stock = reader.stock_ticks("SPY", source="massive-trades", start=start, end=end).to_pylist()
    assert [(t["time"], t["last_price"], t["last_size"], t["bid_price"]) for t in traded] == [
        (T0, 1.23, 5, None)
    ]
    assert (quoted[0]["time"], quoted[0]["bid_price"]) == (T0, 1.20)
    assert [(s["price"], s["volume"]) for s in stock] == [(510.5, 100.0)]


async def test_stock_quotes_and_aggs_become_stock_ticks_and_bars(
    db: Database, tmp_path: Path
) -> None:
    stock = write_csv_gz(tmp_path / "stocks.csv.gz", STOCK_QUOTES, [
        ["SPY", 11, "510.02", 2, 12, "510.00", 3, "", "", T0_NS, 5, T0_NS, 1, ""],
    ])  # fmt: skip
    minute = write_csv_gz(tmp_path / "minute_aggs.csv.gz", AGGS, [
        [CALL, 12, "1.2", "1.3", "1.35", "1.15", T0_NS, 4],
        ["SPY", 1000, "510", "511", "512", "509", T0_NS, 40],
    ])  # fmt: skip
    day_dir = tmp_path / "day_aggs_v1"
    day_dir.mkdir()
    day = write_csv_gz(day_dir / "2024-03-07.csv.gz", AGGS, [
        [PUT, 120, "2.0", "2.2", "2.5", "1.9", T0_NS - 10 * 3600 * SECOND, 30],
    ])  # fmt: skip
    summary = await import_vendor_files(db, "massive", [stock, minute, day])
    assert summary.rows_written == 4
    midnight = datetime(2024, 3, 7, 5, 0, tzinfo=UTC)
    with reader_of(db) as reader:
        ticks = reader.stock_ticks("SPY", start=T0, end=T0 + timedelta(seconds=1)).to_pylist()
        bars = reader.stock_bars("SPY", bar_size="1 min", what_to_show="TRADES", start=T0,
                                 end=T0 + timedelta(minutes=1)).to_pylist()  # fmt: skip
        ids = [c["contract_id"] for c in reader.contracts("SPY").to_pylist()]
        option_minute = reader.stored_bars(
            ids, bar_size="1 min", what_to_show="TRADES", start=T0, end=T0 + timedelta(minutes=1)
        ).to_pylist()
        option_day = reader.stored_bars(ids, bar_size="1 day", what_to_show="TRADES",
                                        start=midnight, end=T0).to_pylist()  # fmt: skip
    assert [(t["bid_price"], t["ask_price"], t["bid_size"]) for t in ticks] == [
        (510.0, 510.02, 3.0)
    ]
    assert [(b["open"], b["high"], b["low"], b["close"], b["volume"], b["bar_count"])
            for b in bars] == [(510.0, 512.0, 509.0, 511.0, 1000.0, 40)]  # fmt: skip
    assert [(b["open"], b["close"], b["volume"]) for b in option_minute] == [(1.2, 1.3, 12.0)]
    assert [(b["time"], b["high"], b["bar_count"]) for b in option_day] == [(midnight, 2.5, 30)]


async def test_symbols_and_window_filter_what_is_imported(db: Database, tmp_path: Path) -> None:
    path = write_csv_gz(tmp_path / "q.csv.gz", QUOTES, [
        [CALL, 301, "1.25", 10, 302, "1.20", 5, 1, T0_NS],
        ["O:QQQ240315C00440000", 301, "1.25", 10, 302, "1.20", 5, 1, T0_NS],
        [CALL, 301, "1.25", 10, 302, "1.20", 5, 1, T0_NS + 3600 * SECOND],
    ])  # fmt: skip
    options = ImportOptions(symbols=frozenset({"SPY"}), start=T0, end=T0 + timedelta(hours=1))
    summary = await import_vendor_files(db, "massive", [path], options=options)
    assert (summary.rows_written, summary.filtered) == (1, 2)
    assert await table_rows(db, "SELECT symbol FROM underlying_securities") == [("SPY",)]
