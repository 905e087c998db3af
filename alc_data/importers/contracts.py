"""Contracts and underlyings of imported rows: matched or created by natural key, cached.

An option is one ``option_chains`` row per (underlying, expiry, strike, right, trading class,
multiplier): a contract the IB collector stored and the same contract in a vendor file are the
same row (the vendor never overwrites what IB recorded; a missing ``contract_symbol`` is filled
in). A vendor's own identifiers are kept in ``instrument_aliases`` (valid from a date, since
Databento reuses instrument ids from day to day).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.db.database import Database
from alc_data.importers.records import Alias, ContractKey, Stock

_UNDERLYING_INSERT = text(
    "INSERT INTO underlying_securities (symbol, sec_type) VALUES (:symbol, :sec_type) "
    "ON CONFLICT DO NOTHING"
)
_UNDERLYING_ID = text(
    "SELECT id FROM underlying_securities WHERE symbol = :symbol AND sec_type = :sec_type"
)
_OPTION_INSERT = text(
    """
    INSERT INTO option_chains (underlying_id, expiration_date, strike_price, option_type,
                               trading_class, multiplier, contract_symbol)
    VALUES (:underlying_id, :expiry, :strike, :right, :trading_class, :multiplier, :symbol)
    ON CONFLICT DO NOTHING
    """
)
_OPTION_ID = text(
    """
    SELECT id, contract_symbol FROM option_chains
    WHERE underlying_id = :underlying_id AND expiration_date = :expiry
      AND strike_price = :strike AND option_type = :right
      AND trading_class = :trading_class AND multiplier = :multiplier
    """
)
_FILL_SYMBOL = text(
    "UPDATE option_chains SET contract_symbol = :symbol, updated_at = now() WHERE id = :id "
    "AND contract_symbol IS NULL AND NOT EXISTS "
    "(SELECT 1 FROM option_chains WHERE contract_symbol = :symbol)"
)
_UNNEST = """
    SELECT * FROM unnest($1::bigint[], $2::date[], $3::numeric[], $4::text[], $5::text[],
                         $6::int[], $7::text[])
        AS k(underlying_id, expiration_date, strike_price, option_type, trading_class,
             multiplier, contract_symbol)
"""
_BULK_INSERT = f"""
    INSERT INTO option_chains (underlying_id, expiration_date, strike_price, option_type,
                               trading_class, multiplier, contract_symbol)
    {_UNNEST}
    ON CONFLICT DO NOTHING
"""
_BULK_SELECT = f"""
    SELECT o.id, o.underlying_id, o.expiration_date, o.strike_price, o.option_type,
           o.trading_class, o.multiplier
    FROM option_chains o JOIN ({_UNNEST}) k USING (underlying_id, expiration_date,
         strike_price, option_type, trading_class, multiplier)
"""
_RESOLVE = """
    WITH ins AS (
        INSERT INTO option_chains (underlying_id, expiration_date, strike_price, option_type,
                                   trading_class, multiplier, contract_symbol)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id)
    SELECT id, true AS created, false AS unnamed FROM ins
    UNION ALL
    SELECT id, false, contract_symbol IS NULL FROM option_chains
    WHERE underlying_id = $1 AND expiration_date = $2 AND strike_price = $3
      AND option_type = $4 AND trading_class = $5 AND multiplier = $6
    LIMIT 1
"""
_BY_SYMBOL = text("SELECT id FROM option_chains WHERE contract_symbol = :symbol")
_ALIAS_INSERT = text(
    """
    INSERT INTO instrument_aliases (source_id, instrument_kind, instrument_id, alias, valid_from)
    VALUES (:source_id, 'option', :instrument_id, :alias, :valid_from)
    ON CONFLICT (source_id, alias, valid_from, instrument_kind)
    DO UPDATE SET instrument_id = EXCLUDED.instrument_id
    """
)
_ALIAS_LOOKUP = text(
    """
    SELECT a.instrument_id, u.symbol FROM instrument_aliases a
    JOIN option_chains o ON o.id = a.instrument_id
    JOIN underlying_securities u ON u.id = o.underlying_id
    WHERE a.source_id = :source_id AND a.instrument_kind = 'option' AND a.alias = :alias
      AND a.valid_from <= :on
    ORDER BY a.valid_from DESC LIMIT 1
    """
)


class ContractResolver:
    """Ids of contracts and underlyings by natural key, and of aliases of one source."""

    def __init__(self, db: Database, source_id: int) -> None:
        self.db = db
        self.source_id = source_id
        self._options: dict[ContractKey, int] = {}
        self._stocks: dict[tuple[str, str], int] = {}
        self._aliases: dict[Alias, int] = {}
        self._new_aliases: dict[tuple[str, date], int] = {}
        #: The underlying symbol of every contract id resolved so far (for ``--symbols``).
        self.symbol_of: dict[int, str] = {}
        self.created = 0

    async def stock(self, stock: Stock) -> int:
        """The ``underlying_securities`` id of ``stock``, created when missing."""
        key = (stock.symbol, stock.sec_type)
        found = self._stocks.get(key)
        if found is None:
            async with self.db.begin() as conn:
                found = await self._stock(conn, *key)
            self._stocks[key] = found
        return found

    async def _stock(self, conn: AsyncConnection, symbol: str, sec_type: str) -> int:
        params = {"symbol": symbol, "sec_type": sec_type}
        await conn.execute(_UNDERLYING_INSERT, params)
        return int((await conn.execute(_UNDERLYING_ID, params)).scalar_one())

    async def option(self, key: ContractKey) -> int:
        """The ``option_chains`` id of ``key``, matched by natural key or created (one
        round trip in the usual case)."""
        found = self._options.get(key)
        if found is None:
            found = await self._option_quickly(key)
            if found is None:
                async with self.db.begin() as conn:
                    found = await self._option(conn, key)
            self._options[key] = found
            self.symbol_of[found] = key.underlying
        return found

    async def _option_quickly(self, key: ContractKey) -> int | None:
        stock = (key.underlying, key.sec_type)
        if stock not in self._stocks:
            await self.stock(Stock(*stock))
        args = (self._stocks[stock], key.expiry, key.strike, key.right, key.trading_class,
                key.multiplier, key.occ_symbol)  # fmt: skip
        async with self.db.raw() as conn:
            row = await conn.fetchrow(_RESOLVE, *args)
        if row is None or row["unnamed"]:
            return None  # an OCC symbol clash, or a symbol to fill in: the careful path
        self.created += bool(row["created"])
        return int(row["id"])

    async def _option(self, conn: AsyncConnection, key: ContractKey) -> int:
        stock = (key.underlying, key.sec_type)
        underlying_id = self._stocks.get(stock)
        if underlying_id is None:
            underlying_id = self._stocks[stock] = await self._stock(conn, *stock)
        params = {
            "underlying_id": underlying_id,
            "expiry": key.expiry,
            "strike": key.strike,
            "right": key.right,
            "trading_class": key.trading_class,
            "multiplier": key.multiplier,
            "symbol": key.occ_symbol,
        }
        inserted = await conn.execute(_OPTION_INSERT, params)
        self.created += inserted.rowcount or 0
        row = (await conn.execute(_OPTION_ID, params)).one_or_none()
        if row is None:  # the OCC symbol belongs to a row with other terms: that row it is
            return int((await conn.execute(_BY_SYMBOL, params)).scalar_one())
        if row.contract_symbol is None:
            await conn.execute(_FILL_SYMBOL, {"symbol": key.occ_symbol, "id": row.id})
        return int(row.id)

    async def options(self, keys: list[ContractKey]) -> None:
        """Resolve many contracts at once (a file's definitions): one INSERT and one SELECT
        for all of them; the few an OCC symbol clash leaves unresolved go one by one."""
        missing = list(dict.fromkeys(k for k in keys if k not in self._options))
        if not missing:
            return
        for stock in {(k.underlying, k.sec_type) for k in missing}:
            await self.stock(Stock(*stock))
        columns = (
            [self._stocks[(k.underlying, k.sec_type)] for k in missing],
            [k.expiry for k in missing],
            [k.strike for k in missing],
            [k.right for k in missing],
            [k.trading_class for k in missing],
            [k.multiplier for k in missing],
            [k.occ_symbol for k in missing],
        )
        async with self.db.raw() as conn, conn.transaction():
            status = await conn.execute(_BULK_INSERT, *columns)
            self.created += int(status.split()[-1])
            rows = await conn.fetch(_BULK_SELECT, *columns)
        found: dict[tuple[Any, ...], Any] = {
            (r["underlying_id"], r["expiration_date"], r["strike_price"], r["option_type"],
             r["trading_class"], r["multiplier"]): r["id"]
            for r in rows
        }  # fmt: skip
        for n, key in enumerate(missing):
            natural = tuple(column[n] for column in columns[:6])
            contract_id = found.get(natural)
            if contract_id is None:
                await self.option(key)
            else:
                self._options[key] = int(contract_id)
                self.symbol_of[int(contract_id)] = key.underlying

    async def define(self, alias: Alias, key: ContractKey, valid_from: date) -> int:
        """Record that ``alias`` names ``key`` from ``valid_from``; the contract's id.

        The alias rows are written by :meth:`save_aliases` (in one statement per file).
        """
        contract_id = await self.option(key)
        self._new_aliases[(alias.value, valid_from)] = contract_id
        self._aliases[alias] = contract_id
        return contract_id

    async def save_aliases(self) -> None:
        """Write the aliases defined since the last call."""
        if not self._new_aliases:
            return
        rows = [
            {"source_id": self.source_id, "instrument_id": cid, "alias": a, "valid_from": day}
            for (a, day), cid in self._new_aliases.items()
        ]
        async with self.db.begin() as conn:
            await conn.execute(_ALIAS_INSERT, rows)
        self._new_aliases.clear()

    async def alias(self, alias: Alias, on: date) -> int | None:
        """The contract ``alias`` names on ``on`` (this file's definitions first, then those
        stored by earlier imports of the source), or None."""
        found = self._aliases.get(alias)
        if found is not None:
            return found
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    _ALIAS_LOOKUP, {"source_id": self.source_id, "alias": alias.value, "on": on}
                )
            ).one_or_none()
        if row is None:
            return None
        self._aliases[alias] = int(row.instrument_id)
        self.symbol_of[int(row.instrument_id)] = str(row.symbol)
        return int(row.instrument_id)

    def cached_alias(self, alias: Alias) -> int | None:
        """The contract id of ``alias`` if this file defined or used it (no database call)."""
        return self._aliases.get(alias)

    def cached_option(self, key: ContractKey) -> int | None:
        """The contract id of ``key`` if resolved before (no database call)."""
        return self._options.get(key)

    def forget_aliases(self) -> None:
        """Drop cached aliases (a new file may be of another day, where ids mean others)."""
        self._aliases.clear()
