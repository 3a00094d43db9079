"""What the two public HTML pages (the approval page, the debtor's page) read from an API Gateway event and
how they answer: the request time, the form, a header, the cross-site check, the locked-down headers.

No AWS here: the handlers (``functions/approval``, ``functions/debtor_page``) parse with these and wire the rest.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from typing import Any


def html_headers(images: bool = False) -> dict[str, str]:
    """No cache, no framing, no referrer, nothing loaded from elsewhere (``images``: inline ``data:`` only)."""
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                   + ("img-src data:; " if images else "")
                                   + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    }


def html_reply(status: int, html: str, headers: dict[str, str]) -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(headers), "body": html, "isBase64Encoded": False}


def request_time(event: dict[str, Any]) -> float:
    """The request time as API Gateway stamped it (a replayed day in the simulator), else the clock."""
    stamp = (event.get("requestContext") or {}).get("requestTimeEpoch")
    return float(stamp) / 1000 if isinstance(stamp, int | float) and stamp > 0 else time.time()


def form_pairs(event: dict[str, Any], max_bytes: int) -> list[tuple[str, str]]:
    """The urlencoded form of a POST, read from its first ``max_bytes`` characters."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    return urllib.parse.parse_qsl(body[:max_bytes], keep_blank_values=True)


def header(event: dict[str, Any], name: str) -> str:
    """A request header by its lower-case name (API Gateway keeps the client's case)."""
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return ""


def cross_site(event: dict[str, Any]) -> bool:
    """A browser POST from another site carries its Origin: refused (defence in depth besides the sig)."""
    origin = header(event, "origin")
    if not origin or origin == "null":   # no-referrer pages send "null" even for their own forms
        return False
    return urllib.parse.urlsplit(origin).netloc.lower() != header(event, "host").lower()
