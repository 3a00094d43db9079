"""``DIR/log.jsonl`` of a simulated season (DESIGN.md contract) and the ``DIR/sent/`` files it points at.

One JSON object per line: ``date``, ``kind``, ``customer``, ``invoices`` always; ``step``, ``channel``, ``to``,
``subject``, ``partner``, ``reason``, ``file`` only where they apply. Lines of one day are sorted, so a
scenario always gives the same file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

KINDS = ("sent", "approval_requested", "approved", "rejected", "approval_expired", "handed_off", "paused",
         "resumed", "stopped", "quarantined", "flagged", "payment", "payment_unmatched", "debtor_reply")
CHANNELS = ("email", "sms", "letter", "task")
OPTIONAL = ("step", "channel", "to", "subject", "partner", "reason", "file", "amount", "source", "answer")
_KIND_ORDER = {k: i for i, k in enumerate(("quarantined", "payment", "payment_unmatched", "debtor_reply",
                                           "paused", "resumed", "sent", "flagged",
                                           "approval_requested", "approved", "rejected", "approval_expired",
                                           "handed_off", "stopped"))}


def line(date: str, kind: str, customer: str, invoices: Iterable[str], **fields: Any) -> dict[str, Any]:
    """A log line with only the fields that apply (empty ones are left out)."""
    if kind not in KINDS:
        raise ValueError(f"unknown log kind {kind!r}")
    out: dict[str, Any] = {"date": date, "kind": kind, "customer": customer, "invoices": sorted(invoices)}
    for key in OPTIONAL:
        value = fields.get(key)
        if value not in (None, ""):
            out[key] = str(value)
    return out


def sort_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["date"], entry["customer"], entry["invoices"], _KIND_ORDER.get(entry["kind"], 99),
            entry.get("step", ""), entry.get("channel", ""), entry.get("to", ""), entry.get("reason", ""),
            entry.get("file", ""))


def dumps(entry: dict[str, Any]) -> str:
    return json.dumps(entry, ensure_ascii=False, separators=(", ", ": "))


def read_log(path: Path | str) -> list[dict[str, Any]]:
    """The lines of a log.jsonl, parsed."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(text) for text in handle if text.strip()]


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(*parts: str) -> str:
    """A file name from parts (customer ids, steps...): no path separators, no dots at the start."""
    name = "-".join(_UNSAFE.sub("_", p).strip("._") or "x" for p in parts if p)
    return name[:150] or "file"


class SentFiles:
    """Writes the messages under ``DIR/sent/`` with stable, unique names; returns paths relative to DIR."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.folder = out / "sent"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._used: set[str] = set()

    def write(self, stem: str, suffix: str, content: bytes) -> str:
        name = f"{stem}{suffix}"
        n = 2
        while name in self._used:
            name = f"{stem}-{n}{suffix}"
            n += 1
        self._used.add(name)
        (self.folder / name).write_bytes(content)
        return f"sent/{name}"


class LogWriter:
    """Collects a day's lines, then writes them sorted to ``log.jsonl`` (flushed each day)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[dict[str, Any]] = []
        self._day: list[dict[str, Any]] = []
        self._handle = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def add(self, entry: dict[str, Any]) -> None:
        self._day.append(entry)

    def extend(self, entries: Sequence[dict[str, Any]]) -> None:
        self._day.extend(entries)

    def end_day(self) -> list[dict[str, Any]]:
        """Write the day's lines sorted; returns them."""
        day = sorted(self._day, key=sort_key)
        for entry in day:
            self._handle.write(dumps(entry) + "\n")
        self._handle.flush()
        self.lines.extend(day)
        self._day = []
        return day

    def close(self) -> None:
        if self._day:
            self.end_day()
        self._handle.close()
