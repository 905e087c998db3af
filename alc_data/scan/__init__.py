"""Arbitrage scanning over chain states: conversions, reversals, boxes, calendar violations.

    from alc_data.scan import ScanConfig, Scanner, run_scan
    scanner = Scanner(ScanConfig(min_edge=0.50))
    for snapshot in reader.replay("SPY", start=t0, end=t1, every="1s").snapshots():
        findings = scanner.scan(snapshot)          # the same call on a live chain_snapshot
    run = await run_scan(db, ["SPY"], start=t0, end=t1)   # a backtest run, findings logged

:class:`StateScanner` scans replay states in their Arrow form (what ``run_scan`` uses: no
snapshot objects), :mod:`alc_data.scan.scoring` compares findings with a simulator scenario's
planted set.
"""

from alc_data.scan.fees import DEFAULT_FEES, FeeModel, load_fees
from alc_data.scan.findings import STRATEGY_TYPES, Finding, FindingLeg
from alc_data.scan.runs import ScanRun, log_finding, run_scan, scan_replay
from alc_data.scan.scanner import EpisodeTracker, ScanConfig, Scanner
from alc_data.scan.scoring import KindScore, Score, score
from alc_data.scan.states import StateScanner

__all__ = [
    "DEFAULT_FEES",
    "STRATEGY_TYPES",
    "EpisodeTracker",
    "FeeModel",
    "Finding",
    "FindingLeg",
    "KindScore",
    "ScanConfig",
    "ScanRun",
    "Scanner",
    "Score",
    "StateScanner",
    "load_fees",
    "log_finding",
    "run_scan",
    "scan_replay",
    "score",
]
