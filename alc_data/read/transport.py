"""Arrow record batches from PostgreSQL through ADBC's PostgreSQL driver.

Two paths, one interface (:meth:`ArrowConnection.stream`):

* **COPY** (the default): ADBC runs ``COPY (query) TO STDOUT (FORMAT binary)`` and decodes the
  stream straight into Arrow in C; batches arrive while the server is still sending.
* **Cursor** (the fallback, for engines where COPY is unavailable, such as the PGlite +
  TimescaleDB engine used in CI): ``DECLARE ... NO SCROLL CURSOR`` inside the read transaction,
  then ``FETCH n`` repeatedly with ADBC's non-COPY path, so memory stays bounded by ``n`` rows.

No Python object is made per row on either path.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Generator, Iterator
from typing import Any
from urllib.parse import quote

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa
from sqlalchemy.engine import URL, make_url

from alc_data.errors import DatabaseUnavailableError, DataError, InternalError

#: Rows per FETCH on the cursor path (and the target batch size of the replay).
FETCH_ROWS = 65_536

_LIBPQ_QUERY_KEYS = (
    "host", "hostaddr", "port", "connect_timeout", "options", "application_name",
    "sslmode", "sslrootcert", "sslcert", "sslkey", "target_session_attrs",
)  # fmt: skip
_cursor_names = itertools.count(1)


def libpq_uri(url: URL | str) -> str:
    """``url`` (any SQLAlchemy PostgreSQL URL) as a libpq URI for ADBC.

    The SQLAlchemy driver suffix and driver-only query options (asyncpg's statement cache,
    ``ssl=disable``) are dropped; ``ssl=disable`` becomes ``sslmode=disable``.
    """
    url = make_url(url) if isinstance(url, str) else url
    query = {k: v for k, v in url.query.items() if k in _LIBPQ_QUERY_KEYS}
    if url.query.get("ssl") in ("disable", "false") and "sslmode" not in query:
        query["sslmode"] = "disable"
    # The literal renderers rely on standard strings (a backslash is just a character).
    options = f"{query.pop('options', '')} -c standard_conforming_strings=on".strip()
    clean = url.set(drivername="postgresql", query=query)
    uri = clean.render_as_string(hide_password=False)
    return f"{uri}{'&' if '?' in uri else '?'}options={quote(options, safe='')}"


class ArrowConnection:
    """One ADBC connection that runs read-only queries, each in its own short transaction:
    a reader holds no lock between reads (a long-lived reader never blocks partition
    maintenance, retention or migrations).

    Args:
        uri: a libpq URI (see :func:`libpq_uri`).
        copy: True for the COPY path, False for the cursor path, None to probe the engine
            once and use COPY where it works.
    """

    def __init__(self, uri: str, *, copy: bool | None = None) -> None:
        try:
            self._conn = adbc.connect(uri)
        except adbc.Error as exc:
            raise DatabaseUnavailableError(f"cannot open an ADBC connection: {exc}") from exc
        self.copy = self._probe_copy() if copy is None else copy

    def _probe_copy(self) -> bool:
        """Whether this engine serves ADBC's COPY-based reads (the probe leaves the connection
        usable either way)."""
        try:
            with self._conn.cursor() as cur:
                cur.execute("SELECT 1::int4 AS probe")
                cur.fetch_arrow_table()
            return True
        except adbc.Error:
            self._conn.rollback()
            return False

    def stream(self, sql: str, *, batch_rows: int = FETCH_ROWS) -> Generator[pa.RecordBatch]:
        """The result of ``sql`` as record batches, in the query's order.

        Raises:
            DatabaseUnavailableError: the connection failed.
            DataError: the database refused the query (bad input reached SQL).
        """
        try:
            if self.copy:
                yield from self._copy_stream(sql)
            else:
                yield from self._cursor_stream(sql, batch_rows)
        except adbc.Error as exc:
            self._reset()
            raise _translated(exc) from exc
        finally:
            self._reset()  # end the read's transaction, also when the caller stopped early

    def _reset(self) -> None:
        """End the current transaction (read-only: nothing to keep), also a failed one, so that
        the connection holds no locks and serves the next query."""
        # If the connection itself is gone, the next query reports that.
        with contextlib.suppress(adbc.Error):
            self._conn.rollback()

    def table(
        self, sql: str, *, schema: pa.Schema | None = None, batch_rows: int = FETCH_ROWS
    ) -> pa.Table:
        """The whole result of ``sql`` as one Arrow table (``schema`` gives an empty result
        its columns; the cursor path cannot tell a column's type without a row)."""
        batches = list(self.stream(sql, batch_rows=batch_rows))
        if batches:
            return pa.Table.from_batches(batches)
        if schema is None:
            raise InternalError("an empty result needs a schema")
        return schema.empty_table()

    def _copy_stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        with self._conn.cursor() as cur:
            cur.execute(sql)
            reader: Any = cur.fetch_record_batch()
            yield from reader

    def _cursor_stream(self, sql: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        name = f"alc_read_{next(_cursor_names)}"
        with self._conn.cursor() as cur:
            cur.adbc_statement.set_options(**{"adbc.postgresql.use_copy": "false"})
            cur.execute(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}")
            try:
                while True:
                    cur.execute(f"FETCH {int(batch_rows)} FROM {name}")
                    part = cur.fetch_arrow_table()
                    if part.num_rows == 0:
                        break
                    yield from part.to_batches()
            finally:
                cur.execute(f"CLOSE {name}")

    def close(self) -> None:
        """End the read transaction and close the connection (also after it was lost)."""
        self._reset()
        self._conn.close()

    def __enter__(self) -> ArrowConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _translated(exc: adbc.Error) -> Exception:
    """A driver error as an :mod:`alc_data.errors` type, by SQLSTATE class."""
    state = getattr(exc, "sqlstate", None) or ""
    if state.startswith(("08", "57")) or isinstance(exc, adbc.OperationalError):
        return DatabaseUnavailableError(f"the read failed: {exc}")
    if state.startswith(("22", "23", "42")):
        return DataError(f"the database refused the read: {exc}")
    return InternalError(f"the read failed: {exc}")
