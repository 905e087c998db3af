"""``python -m alc_data.ib.sim serve --port 7497``."""

from __future__ import annotations

import sys

from alc_data.ib.sim.cli import main

sys.exit(main())
