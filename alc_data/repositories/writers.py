"""The bulk writers of the hot path: option ticks, stock ticks, option bars, stock bars.

All four share :class:`~alc_data.repositories.buffered_writer.BufferedWriter`; they differ only
in their :class:`~alc_data.repositories.copy_target.CopyTarget`. Example::

    async with TickWriter(db) as writer:
        await writer.put(OptionTick(contract_id, now, bid_price=1.2, ask_price=1.3))
    print(writer.counts.written)
"""

from __future__ import annotations

from alc_data.db.rows import OptionBarRow, OptionTick, StockBarRow, StockTick
from alc_data.repositories.buffered_writer import BufferedWriter, WriterCounts
from alc_data.repositories.copy_target import CopyTarget, tick_choices

__all__ = [
    "OptionBarWriter",
    "StockBarWriter",
    "StockTickWriter",
    "TickWriter",
    "WriterCounts",
]


class TickWriter(BufferedWriter):
    """Writes :class:`OptionTick` rows into ``market_data_ticks`` with binary COPY.

    Args:
        db: a :class:`~alc_data.Database`, an ``asyncpg.Pool`` or a URL.
        idempotent: COPY into a staging table and ``INSERT ... ON CONFLICT DO NOTHING``
            (replays, reloads). Without it a chunk that hits already-stored rows falls back
            to that path, and the skipped rows are counted as ``duplicates``.
        batch_size: rows waiting that trigger a flush (default ``ALC_BATCH_SIZE``).
        interval: seconds (or a timedelta) after which waiting rows are flushed anyway
            (default ``COLLECTION_INTERVAL_MS``).
        chunk_rows: rows per COPY (default ``ALC_COPY_CHUNK_ROWS``).
        max_pending: queued rows at which ``put`` waits (default ``chunk_rows * parallel``).
        parallel: connections writing chunks at once (encoding overlaps server work).
        on_reject: called with each :class:`~alc_data.errors.InvalidRowError`.
        keep_rejections: how many recent rejections :attr:`rejections` keeps.
        before_write: an async callback given each flush's rows (every row once) before they
            are written, e.g. ``InlineValidationHook(validator, enabled=True).check`` for
            inline validation (off by default); it cannot stop the write, and if it raises the
            error is logged and kept in ``counts.last_error``.
        source_id: the ``data_sources`` id recorded on every row (see
            :func:`alc_data.db.sources.register_source`); None leaves it to the column's
            default, the ``unspecified`` source.
    """

    target = CopyTarget(
        table="market_data_ticks",
        row_type=OptionTick,
        ref_column="contract_id",
        ref_table="option_chains",
        key=("contract_id", "source_id", "time"),
        choices=tick_choices(),
    )


class StockTickWriter(BufferedWriter):
    """Writes :class:`StockTick` rows into ``stock_data_ticks`` (arguments as TickWriter)."""

    target = CopyTarget(
        table="stock_data_ticks",
        row_type=StockTick,
        ref_column="underlying_id",
        ref_table="underlying_securities",
        key=("underlying_id", "source_id", "time"),
        choices=tick_choices(),
    )


class OptionBarWriter(BufferedWriter):
    """Writes :class:`OptionBarRow` rows into ``option_bars``; idempotent by default."""

    default_idempotent = True
    target = CopyTarget(
        table="option_bars",
        row_type=OptionBarRow,
        ref_column="contract_id",
        ref_table="option_chains",
        key=("contract_id", "source_id", "what_to_show", "bar_size", "time"),
    )


class StockBarWriter(BufferedWriter):
    """Writes :class:`StockBarRow` rows into ``stock_bars``; idempotent by default."""

    default_idempotent = True
    target = CopyTarget(
        table="stock_bars",
        row_type=StockBarRow,
        ref_column="underlying_id",
        ref_table="underlying_securities",
        key=("underlying_id", "source_id", "what_to_show", "bar_size", "time"),
    )
