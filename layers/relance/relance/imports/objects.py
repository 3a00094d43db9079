"""Imports of files dropped in the letters bucket under ``imports/``: CSV or Factur-X PDF, with a report.

A file ``imports/<name>.csv`` (or ``.pdf``) is imported; the report goes next to it as
``imports/<name>.report.json``. Keys outside ``imports/`` or with path tricks (``..``, ``//``, ``\\``,
absolute, control characters) are refused and nothing is read. Report files are never imported (they
are what this function writes: importing them would loop).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from relance.errors import RelanceError, ValidationError
from relance.imports.csv_import import MAX_BYTES, import_csv
from relance.imports.facturx import import_facturx
from relance.ledger import Ledger
from relance.ports import Files

PREFIX = "imports/"
REPORT_SUFFIX = ".report.json"
_SAFE_KEY = re.compile(r"^imports/(?:[A-Za-z0-9][A-Za-z0-9 ._\-()+,@=]{0,200}/){0,3}"
                       r"[A-Za-z0-9][A-Za-z0-9 ._\-()+,@=]{0,200}$")


@dataclass(frozen=True)
class DroppedObject:
    bucket: str
    key: str
    day: dt.date


def check_key(key: str) -> str:
    """The key if it is a file directly usable as an import, else ValidationError saying why."""
    if not key.startswith(PREFIX):
        raise ValidationError("only keys under imports/ are imported", key)
    if key.startswith("/") or "\\" in key or "//" in key or any(part in (".", "..") for part in key.split("/")):
        raise ValidationError("path tricks (.., //, \\) are refused", key)
    if re.search(r"[\x00-\x1f\x7f]", key) or not _SAFE_KEY.match(key):
        raise ValidationError("unexpected characters in the key (letters, digits, space . _ - ( ) + , @ =)",
                              key)
    return key


def report_key(key: str) -> str:
    """``imports/x.csv`` -> ``imports/x.report.json``."""
    stem = key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key
    return stem + REPORT_SUFFIX


def import_object(files: Files, ledger: Ledger, obj: DroppedObject, expected_bucket: str) -> dict[str, Any] | None:
    """Import one dropped file and write its report next to it; returns the report (None when skipped).

    ``files`` is the letters bucket (``expected_bucket``): an event naming another bucket is refused.
    """
    if obj.key.endswith(REPORT_SUFFIX) or obj.key.endswith("/"):
        return None
    if obj.bucket != expected_bucket:
        raise ValidationError(f"bucket {obj.bucket!r} is not the letters bucket", obj.key)
    key = check_key(obj.key)
    extension = key.rsplit(".", 1)[-1].lower() if "." in key else ""
    report: dict[str, Any]
    if files.size(key) > MAX_BYTES:
        report = _failed(key, f"file larger than {MAX_BYTES // (1024 * 1024)} MB; split it")
    elif extension == "csv":
        data = files.get(key) or b""
        report = import_csv(data, ledger, obj.day, source=key).to_json()
    elif extension == "pdf":
        data = files.get(key) or b""
        try:
            result = import_facturx(data, ledger, files, obj.day, source=key)
        except RelanceError as exc:
            report = _failed(key, exc.message)
        else:
            report = {"source": key, "ok": True, "kind": "factur-x", "invoice": result.invoice_id,
                      "customer": result.customer_id, "created": result.created,
                      "customer_created": result.customer_created, "attachment_key": result.attachment_key}
    else:
        report = _failed(key, f"unsupported file type {extension or '(none)'!r}: .csv or Factur-X .pdf")
    report["imported_on"] = obj.day.isoformat()
    files.put(report_key(key), json.dumps(report, indent=2, ensure_ascii=False).encode(), "application/json")
    return report


def _failed(key: str, reason: str) -> dict[str, Any]:
    return {"source": key, "ok": False, "errors": [{"line": None, "field": None, "reason": reason}]}
