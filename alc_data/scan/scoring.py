"""Scoring findings against ground truth: a simulator scenario's planted opportunities.

Planted entries are the mappings ``alc-data sim planted --json`` prints (or
``PlantedOpportunity.to_json()``): ``kind``, ``legs`` (``con_id``, ``side``, ``right``),
``start``, ``end``, ``edge``. A finding matches an entry when its kind and option legs (IB
contract id and side) are the entry's and its time ``[first_seen, last_seen]`` overlaps the
entry's window ``[start, end)``.

Per kind: *recall* is the share of the entries that must be found (edge at least the minimum
edge + ``margin``) that some finding matches; *precision* the share of findings matching some
planted entry (an entry just below the threshold that is found counts as a false positive for
the ``missed_below`` check, not here); ``found_below`` lists entries at least ``margin`` below
the minimum edge that were found anyway (the target: none). Entries with ``implied_by`` (made
by another entry's move, listed with ``--implied list``) make the findings matching them true
ones but are no target of recall, edge error or latency. Edge error is the found edge minus
the planted one; latency the first sight minus the window's start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alc_data.arbitrage_edges import KINDS
from alc_data.scan.findings import Finding

__all__ = ["KindScore", "Score", "score"]


@dataclass
class KindScore:
    """The score of one kind."""

    kind: str
    expected: int = 0  # entries that must be found
    recalled: int = 0
    findings: int = 0
    true_findings: int = 0
    found_below: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    false_findings: list[Finding] = field(default_factory=list)
    edge_errors: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Recalled / expected (1.0 with nothing to find)."""
        return self.recalled / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        """True findings / findings (1.0 with no findings)."""
        return self.true_findings / self.findings if self.findings else 1.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        errors = [abs(e) for e in self.edge_errors]
        return {
            "kind": self.kind,
            "expected": self.expected,
            "recalled": self.recalled,
            "recall": self.recall,
            "findings": self.findings,
            "precision": self.precision,
            "missed": self.missed,
            "found_below": self.found_below,
            "false_findings": [f.to_json() for f in self.false_findings],
            "max_abs_edge_error": max(errors) if errors else None,
            "mean_latency_s": sum(self.latencies) / len(self.latencies) if self.latencies else None,
            "max_latency_s": max(self.latencies) if self.latencies else None,
        }


@dataclass
class Score:
    """Scores by kind."""

    kinds: dict[str, KindScore]

    @property
    def perfect(self) -> bool:
        """Recall and precision 1.0 for every kind and nothing found below the threshold."""
        return all(
            k.recall == 1.0 and k.precision == 1.0 and not k.found_below
            for k in self.kinds.values()
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {"perfect": self.perfect, "kinds": {k: s.to_json() for k, s in self.kinds.items()}}


def _time(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _entry_key(entry: Mapping[str, Any]) -> tuple[str, frozenset[tuple[int, str]]]:
    legs = frozenset(
        (int(leg["con_id"]), str(leg["side"]).upper())
        for leg in entry["legs"]
        if str(leg.get("right", "")).upper() != "STK"
    )
    return str(entry["kind"]), legs


def _finding_key(f: Finding) -> tuple[str, frozenset[tuple[int, str]]]:
    legs = frozenset((int(leg.ib_con_id or -1), leg.side) for leg in f.legs if leg.right != "STK")
    return f.kind, legs


def _overlaps(f: Finding, entry: Mapping[str, Any]) -> bool:
    return f.first_seen < _time(entry["end"]) and f.last_seen >= _time(entry["start"])


def score(
    findings: Sequence[Finding],
    planted: Sequence[Mapping[str, Any]],
    *,
    min_edge: float,
    margin: float = 0.01,
) -> Score:
    """Score ``findings`` against ``planted`` (see the module docstring)."""
    kinds = {k: KindScore(k) for k in KINDS}
    matched: dict[int, list[Finding]] = {}
    for f in findings:
        ks = kinds[f.kind]
        ks.findings += 1
        entries = [
            n for n, e in enumerate(planted)
            if _entry_key(e) == _finding_key(f) and _overlaps(f, e)
        ]  # fmt: skip
        if entries:
            ks.true_findings += 1
            for n in entries:
                matched.setdefault(n, []).append(f)
        else:
            ks.false_findings.append(f)
    for n, entry in enumerate(planted):
        ks = kinds[str(entry["kind"])]
        edge = float(entry["edge"])
        ident = str(entry.get("id", n))
        hits = matched.get(n, [])
        if entry.get("implied_by"):
            continue  # created by another entry's move: a true finding, not a target
        if edge >= min_edge + margin - 1e-9:
            ks.expected += 1
            if hits:
                ks.recalled += 1
                first = min(hits, key=lambda f: f.first_seen)
                ks.edge_errors.append(first.edge - edge)
                start = _time(entry["start"])
                ks.latencies.append(max((first.first_seen - start).total_seconds(), 0.0))
            else:
                ks.missed.append(ident)
        elif edge <= min_edge - margin + 1e-9 and hits:
            ks.found_below.append(ident)
    return Score(kinds)
