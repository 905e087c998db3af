"""Cboe DataShop Option EOD Summary: two snapshots per contract and day, a daily bar."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from alc_data import Database
from alc_data.importers import import_vendor_files
from alc_data.read import ArrowReader
from tests.support.importing import snapshot, table_rows

GREEKS = ["implied_volatility_1545", "delta_1545", "gamma_1545", "theta_1545", "vega_1545",
          "rho_1545"]  # fmt: skip
COLUMNS = [
    "underlying_symbol", "quote_date", "root", "expiration", "strike", "option_type", "open",
    "high", "low", "close", "trade_volume", "bid_size_1545", "bid_1545", "ask_size_1545",
    "ask_1545", "underlying_bid_1545", "underlying_ask_1545", "implied_underlying_price_1545",
    "active_underlying_price_1545", *GREEKS, "bid_size_eod", "bid_eod", "ask_size_eod",
    "ask_eod", "underlying_bid_eod", "underlying_ask_eod", "vwap", "open_interest",
    "delivery_code",
]  # fmt: skip
DAY = "2024-03-07"


def row(symbol: str, root: str, expiry: str, strike: str, right: str, volume: int,
        **over: object) -> dict[str, object]:  # fmt: skip
    base: dict[str, object] = {
        "underlying_symbol": symbol, "quote_date": DAY, "root": root, "expiration": expiry,
        "strike": strike, "option_type": right, "open": 0, "high": 0, "low": 0, "close": 0,
        "trade_volume": volume, "bid_size_1545": 10, "bid_1545": 1.1, "ask_size_1545": 12,
        "ask_1545": 1.2, "underlying_bid_1545": 5100.1, "underlying_ask_1545": 5100.5,
        "implied_underlying_price_1545": 5100.2, "active_underlying_price_1545": 5100.3,
        "implied_volatility_1545": 0.15, "delta_1545": 0.5, "gamma_1545": 0.01,
        "theta_1545": -0.2, "vega_1545": 3.1, "rho_1545": 0.4, "bid_size_eod": 20,
        "bid_eod": 1.05, "ask_size_eod": 22, "ask_eod": 1.15, "underlying_bid_eod": 5101.0,
        "underlying_ask_eod": 5101.4, "vwap": 0, "open_interest": 345, "delivery_code": "",
    }  # fmt: skip
    if volume:
        base.update(open=1.0, high=1.4, low=0.9, close=1.12, vwap=1.11)
    base.update(over)
    return base


def csv_text(rows: list[dict[str, object]], columns: list[str], bad: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for n, r in enumerate(rows):
        writer.writerow([r.get(c, "") for c in columns])
        if bad and n == 1:
            writer.writerow(["^SPX", DAY, "SPXW", "2024-03-15", "not-a-strike", "C"] +
                            [""] * (len(columns) - 6))  # fmt: skip
    return out.getvalue()


ROWS = [
    row("^SPX", "SPXW", "2024-03-15", "5100.000", "C", 25),
    row("^SPX", "SPXW", "2024-03-15", "5100.000", "P", 0),
    row("^SPX", "SPX", "2024-04-19", "5000.000", "P", 3, bid_eod=""),
]
NEW_YORK_1545 = datetime(2024, 3, 7, 20, 45, tzinfo=UTC)  # EST: UTC-5
CLOSE_LATE = datetime(2024, 3, 7, 21, 15, tzinfo=UTC)
OPEN = datetime(2024, 3, 7, 14, 30, tzinfo=UTC)


def reader_of(db: Database) -> ArrowReader:
    return ArrowReader.connect(db.engine.url.render_as_string(hide_password=False))


async def test_rows_become_snapshots_bars_and_underlying_quotes(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "UnderlyingOptionsEODCalcs_2024-03-07.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("UnderlyingOptionsEODCalcs_2024-03-07.csv",
                         csv_text(ROWS, COLUMNS, bad=True))  # fmt: skip
    summary = await import_vendor_files(db, "cboe-eod", [path])
    assert summary.rows_read == 4
    assert summary.rejected == {"bad_value": 1}
    assert summary.bad_records[0].record == 3
    # 3 contracts x 2 snapshots, 2 bars (the untraded put has none), 2 underlying quotes
    assert summary.rows_written == 6 + 2 + 2
    with reader_of(db) as reader:
        contracts = {c["contract_id"]: c for c in reader.contracts("SPX").to_pylist()}
        ticks = reader.ticks(symbol="SPX", start=OPEN, end=OPEN + timedelta(hours=8)).to_pylist()
        bars = reader.stored_bars(
            list(contracts),
            bar_size="1 day",
            what_to_show="TRADES",
            start=OPEN,
            end=OPEN + timedelta(hours=1),
        ).to_pylist()
        stock = reader.stock_ticks("SPX", start=OPEN, end=OPEN + timedelta(hours=8)).to_pylist()
    assert {c["trading_class"] for c in contracts.values()} == {"SPXW", "SPX"}
    by_key = {(contracts[t["contract_id"]]["option_type"],
               contracts[t["contract_id"]]["expiration_date"], t["time"]): t
              for t in ticks}  # fmt: skip
    assert len(by_key) == 6
    call_1545 = by_key[("C", date(2024, 3, 15), NEW_YORK_1545)]
    assert (call_1545["bid_price"], call_1545["ask_price"], call_1545["bid_size"]) == (1.1, 1.2, 10)
    assert (call_1545["delta"], call_1545["vega"], call_1545["implied_volatility"]) == (
        0.5, 3.1, 0.15)  # fmt: skip
    assert call_1545["underlying_price"] == 5100.3
    call_close = by_key[("C", date(2024, 3, 15), CLOSE_LATE)]
    got = [call_close[k] for k in ("bid_price", "last_price", "volume", "open_interest", "delta")]
    assert got == [1.05, 1.12, 25, 345, None]
    assert call_close["underlying_price"] == (5101.0 + 5101.4) / 2
    put_close = by_key[("P", date(2024, 4, 19), CLOSE_LATE)]
    assert (put_close["bid_price"], put_close["ask_price"]) == (None, 1.15)
    assert sorted((b["open"], b["high"], b["volume"], b["wap"], b["time"]) for b in bars) == [
        (1.0, 1.4, 3.0, 1.11, OPEN), (1.0, 1.4, 25.0, 1.11, OPEN),
    ]  # fmt: skip
    assert [(s["time"], s["bid_price"]) for s in stock] == [
        (NEW_YORK_1545, 5100.1),
        (CLOSE_LATE, 5101.0),
    ]
    before = await snapshot(db)
    again = await import_vendor_files(db, "cboe-eod", [path])
    assert (again.files_skipped, again.rows_written) == (1, 0)
    assert await snapshot(db) == before


async def test_the_plain_variant_without_greeks_and_a_16_00_product(
    db: Database, tmp_path: Path
) -> None:
    plain = [c for c in COLUMNS if c not in GREEKS]
    path = tmp_path / "UnderlyingOptionsEODQuotes_2024-03-07.csv"
    path.write_text(csv_text([row("AAPL", "AAPL", "2024-03-15", "170", "C", 0)], plain))
    summary = await import_vendor_files(db, "cboe-eod", [path])
    assert summary.rows_written == 2 + 2
    rows = await table_rows(db, "SELECT time, delta, implied_volatility FROM market_data_ticks "
                            "ORDER BY time")  # fmt: skip
    assert rows == [
        (NEW_YORK_1545, None, None),
        (datetime(2024, 3, 7, 21, 0, tzinfo=UTC), None, None),
    ]
