"""What trading a strategy costs: commission per option contract and per share, exchange fees.

Defaults (:data:`DEFAULT_FEES`) are a typical retail tiered schedule: $0.65 commission per
option contract, $0.005 per share, no exchange fees. A fees file is YAML or JSON, either the
mapping itself or a simulator scenario file (its ``fees:`` section is used, so a scenario is
scanned with its own fee model)::

    per_contract: 0.65            # commission per option contract
    per_share: 0.005              # per share of stock
    exchange_per_contract: 0.0    # exchange/regulatory fee per option contract
    exchange_per_share: 0.0       # per share
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from alc_data.errors import ConfigError

__all__ = ["DEFAULT_FEES", "FeeModel", "load_fees"]

_ALIASES = {
    "per_contract": ("per_contract", "commission_per_contract", "commission", "contract"),
    "per_share": ("per_share", "per_share_cost", "share_cost", "share"),
    "exchange_per_contract": ("exchange_per_contract", "exchange_fee_per_contract"),
    "exchange_per_share": ("exchange_per_share", "exchange_fee_per_share"),
}


@dataclass(frozen=True)
class FeeModel:
    """Dollar costs of one strategy unit: per option contract and per share, each a commission
    plus an exchange fee."""

    per_contract: float = 0.65
    per_share: float = 0.005
    exchange_per_contract: float = 0.0
    exchange_per_share: float = 0.0

    def of(self, option_legs: int, shares: int) -> float:
        """The fees of ``option_legs`` contracts and ``shares`` shares (dollars)."""
        contract = self.per_contract + self.exchange_per_contract
        return option_legs * contract + shares * (self.per_share + self.exchange_per_share)

    def to_json(self) -> dict[str, float]:
        """A JSON-ready mapping (the fields)."""
        return asdict(self)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object], *, where: str = "fees") -> FeeModel:
        """A fee model from a mapping (field names or their aliases; absent fields are 0).

        Raises:
            ConfigError: a field is not a non-negative number.
        """
        values: dict[str, float] = {}
        for field, names in _ALIASES.items():
            value = next((raw[n] for n in names if n in raw), 0)
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ConfigError(f"{where}.{field} must be a number, got {value!r}")
            try:
                number = float(value)
            except ValueError as exc:
                raise ConfigError(f"{where}.{field} must be a number, got {value!r}") from exc
            if not math.isfinite(number) or number < 0:
                raise ConfigError(f"{where}.{field} must be a non-negative number")
            values[field] = number
        return cls(**values)


DEFAULT_FEES = FeeModel()


def load_fees(path: str | Path) -> FeeModel:
    """Read a fees file (see the module docstring).

    Raises:
        ConfigError: the file is missing, unreadable or malformed.
    """
    p = Path(path)
    try:
        text = p.read_text()
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read fees file {p}: {exc}") from exc
    if isinstance(data, Mapping) and isinstance(data.get("fees"), Mapping):
        data = data["fees"]
    if not isinstance(data, Mapping):
        raise ConfigError(f"fees file {p}: expected a mapping of fees")
    return FeeModel.from_mapping(data, where=str(p))
