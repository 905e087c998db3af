"""OCC option symbols: ``SPY241220C00600000`` (Massive adds ``O:``; Databento and IB pad the
root to six characters): root, YYMMDD expiry, C/P, strike x 1000 in eight digits."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from alc_data.importers.records import ContractKey, Rejected, underlying_of

_OCC = re.compile(r"^(?:O:)?([A-Z0-9]{1,6}) *(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")
_THOUSAND = Decimal(1000)


def parse_occ(symbol: str, multiplier: int | None = None) -> ContractKey | Rejected:
    """The contract an OCC symbol names, or a :class:`Rejected` saying why it names none."""
    match = _OCC.match(symbol.strip())
    if match is None:
        return Rejected("bad_symbol", f"not an OCC option symbol: {symbol!r}")
    root, yy, mm, dd, right, strike = match.groups()
    try:
        expiry = date(2000 + int(yy), int(mm), int(dd))
    except ValueError:
        return Rejected("bad_symbol", f"no such expiry date in {symbol!r}")
    if int(strike) == 0:
        return Rejected("bad_symbol", f"zero strike in {symbol!r}")
    underlying, sec_type = underlying_of(root)
    return ContractKey(
        underlying,
        sec_type,
        expiry,
        (Decimal(strike) / _THOUSAND).quantize(Decimal("0.0001")),
        right,
        root,
        multiplier or 100,
    )
