"""The one seam through which every columnar read selects a data source (provenance).

Awaiting provenance (issue 16: a ``data_sources`` table and a ``source_id`` on every
time-series row). Until that schema lands the database holds exactly one, implicit source, so
the predicate selects every row. Wiring it is local to this module: look the name up in
``data_sources`` (default: the one source present for the rows asked for, else
``ALC_DEFAULT_SOURCE``, else the typed error listing the sources found), and return
``{alias}.source_id = <id>``. Every reader query calls :func:`source_filter` once per
time-series table it reads, so no query can forget it.
"""

from __future__ import annotations

import re

from alc_data.errors import DataError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,62}$")


def check_source(source: str | None) -> str | None:
    """``source`` validated as a source name (or None for the default).

    Raises:
        DataError: the name is empty or has characters a source name cannot have.
    """
    if source is None:
        return None
    if not isinstance(source, str) or not _NAME.match(source):
        raise DataError(f"invalid source name {source!r}")
    return source


def source_filter(source: str | None, alias: str) -> str:
    """The SQL predicate restricting the rows of table ``alias`` to ``source``.

    Pre-provenance schema: one implicit source, so every row matches (``TRUE``); the name is
    still validated so that callers written today keep working when the predicate becomes
    ``{alias}.source_id = ...``.
    """
    check_source(source)
    if not alias.isidentifier():
        raise DataError(f"invalid table alias {alias!r}")
    return "TRUE"
