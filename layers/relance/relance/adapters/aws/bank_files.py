"""Bank statements dropped under ``statements/`` of the letters bucket (EventBridge ``Object Created``).

The statement is read from S3, imported by :func:`relance.bank.service.import_statement` and its report is
written next to it (``statements/<name>.report.json``); entries not matched become one team task each on the
team topic. Keys with path tricks are refused before anything is read, as for ``imports/``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from relance.bank import MAX_BYTES, BankFileError
from relance.bank.ports import BankStore
from relance.bank.service import import_statement
from relance.errors import ValidationError
from relance.imports.objects import DroppedObject
from relance.ledger import Ledger

PREFIX = "statements/"
REPORT_SUFFIX = ".report.json"
_SAFE_KEY = re.compile(r"^statements/(?:[A-Za-z0-9][A-Za-z0-9 ._\-()+,@=]{0,200}/){0,3}"
                       r"[A-Za-z0-9][A-Za-z0-9 ._\-()+,@=]{0,200}$")


def is_statement(key: str) -> bool:
    return key.startswith(PREFIX)


def check_key(key: str) -> str:
    if not key.startswith(PREFIX):
        raise ValidationError("only keys under statements/ are bank statements", key)
    if "\\" in key or "//" in key or any(part in (".", "..") for part in key.split("/")):
        raise ValidationError("path tricks (.., //, \\) are refused", key)
    if re.search(r"[\x00-\x1f\x7f]", key) or not _SAFE_KEY.match(key):
        raise ValidationError("unexpected characters in the key (letters, digits, space . _ - ( ) + , @ =)", key)
    return key


def report_key(key: str) -> str:
    stem = key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key
    return stem + REPORT_SUFFIX


def import_statement_object(s3: Any, ledger: Ledger, bank: BankStore, obj: DroppedObject, expected_bucket: str,
                            notify: Any = None) -> dict[str, Any] | None:
    """Import one dropped statement and write its report next to it; None for keys that are not ours."""
    if obj.key.endswith(REPORT_SUFFIX) or obj.key.endswith("/"):
        return None
    if obj.bucket != expected_bucket:
        raise ValidationError(f"bucket {obj.bucket!r} is not the letters bucket", obj.key)
    key = check_key(obj.key)
    head = s3.head_object(Bucket=obj.bucket, Key=key)
    report: dict[str, Any]
    if int(head.get("ContentLength", 0)) > MAX_BYTES:
        report = _failed(key, f"file larger than {MAX_BYTES // (1024 * 1024)} MB; split it")
    else:
        data = s3.get_object(Bucket=obj.bucket, Key=key)["Body"].read()
        try:
            report = import_statement(data, key, ledger, bank, obj.day,
                                      notify=notify).to_json()
        except BankFileError as exc:
            report = _failed(key, str(exc))          # refused whole: nothing was booked
    report["imported_on"] = obj.day.isoformat()
    s3.put_object(Bucket=obj.bucket, Key=report_key(key), ContentType="application/json",
                  Body=json.dumps(report, indent=2, ensure_ascii=False).encode())
    return report


def _failed(key: str, reason: str) -> dict[str, Any]:
    return {"source": key, "ok": False, "kind": "bank_statement", "errors": [{"line": None, "reason": reason}]}
