"""The one seam through which every columnar read restricts its rows to one data source.

Every reader query calls :func:`source_filter` once per time-series table it reads, with the
source id the reader chose (:meth:`alc_data.read.frames.ArrowReader.source_id`: the source
named, else the one present for the rows asked for, else ``ALC_DEFAULT_SOURCE``, else
:class:`~alc_data.errors.AmbiguousSourceError`), so no query can forget it or mix sources.
"""

from __future__ import annotations

import re

from alc_data.errors import DataError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,62}$")


def check_source(source: str | int | None) -> str | int | None:
    """``source`` validated as a source name or id (or None for the default).

    Raises:
        DataError: the name is empty or has characters a source name cannot have.
    """
    if source is None or (isinstance(source, int) and not isinstance(source, bool)):
        return source
    if not isinstance(source, str) or not _NAME.match(source):
        raise DataError(f"invalid source name {source!r}")
    return source


def source_filter(source_id: int | None, alias: str) -> str:
    """The SQL predicate restricting the rows of table ``alias`` to source ``source_id``
    (None: no source holds rows there, so no row matches)."""
    if not alias.isidentifier():
        raise DataError(f"invalid table alias {alias!r}")
    if source_id is None:
        return "FALSE"
    if isinstance(source_id, bool) or not isinstance(source_id, int):
        raise DataError(f"a source id is an integer, not {source_id!r}")
    return f"{alias}.source_id = {int(source_id)}"
