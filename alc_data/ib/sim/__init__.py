"""A TWS-protocol simulator of an options market, for the real ib_async client.

Start it in a test with :class:`SimServer` (``port=0`` picks a free port), query the same
:class:`MarketModel` the server streams from, and script faults through ``server.faults``.
Run it standalone with ``alc-data sim serve`` or ``python -m alc_data.ib.sim``. Plant known
opportunities with ``SimConfig(scenario=load_scenario(path))`` and read the ground truth back
with ``server.planted(start, end)`` (see :mod:`alc_data.ib.sim.planting`).
"""

from __future__ import annotations

from alc_data.ib.sim.clock import SimClock
from alc_data.ib.sim.core import Bar, Greeks, HistoryError, Quote
from alc_data.ib.sim.faults import Faults
from alc_data.ib.sim.instruments import UNDERLYINGS, OptionSpec, UnderlyingSpec
from alc_data.ib.sim.market import MarketModel
from alc_data.ib.sim.planting import PlantedLeg, PlantedOpportunity, Planter
from alc_data.ib.sim.protocol import MAX_SERVER_VERSION, MIN_SERVER_VERSION, SERVER_VERSION
from alc_data.ib.sim.scenario import Fees, Scenario, load_scenario, parse_scenario
from alc_data.ib.sim.server import SimConfig, SimServer

__all__ = [
    "MAX_SERVER_VERSION",
    "MIN_SERVER_VERSION",
    "SERVER_VERSION",
    "UNDERLYINGS",
    "Bar",
    "Faults",
    "Fees",
    "Greeks",
    "HistoryError",
    "MarketModel",
    "OptionSpec",
    "PlantedLeg",
    "PlantedOpportunity",
    "Planter",
    "Quote",
    "Scenario",
    "SimClock",
    "SimConfig",
    "SimServer",
    "UnderlyingSpec",
    "load_scenario",
    "parse_scenario",
]
