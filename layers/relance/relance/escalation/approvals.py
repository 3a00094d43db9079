"""Approval links: opaque ids, HMAC-SHA256 signatures with an expiry, and the one-time decision.

A link is ``<base>/approvals/<id>?sig=<expires_at>.<mac>`` where ``id`` is ``secrets.token_urlsafe`` (the
task token stays in DynamoDB under that id, never in a URL) and ``mac`` is HMAC-SHA256 over the id and the
expiry with a key held in Secrets Manager. Only a POST carrying the same ``sig`` decides, once: the
approval item moves from ``pending`` to ``approved``/``rejected`` with a conditional write.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from relance.escalation.services import PARIS, Services
from relance.ports import Secrets

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_SIG = re.compile(r"^(\d{1,12})\.([A-Za-z0-9_-]{43})$")


# ---- ids, signatures, links -----------------------------------------------------------------------
def new_approval_id() -> str:
    """256 random bits, URL-safe: the only thing a link names."""
    return secrets.token_urlsafe(32)


def expiry_moment(expires: dt.date) -> int:
    """The link works through the whole day ``expires`` (Europe/Paris): epoch seconds of its last second."""
    end = dt.datetime.combine(expires + dt.timedelta(days=1), dt.time(), tzinfo=PARIS)
    return int(end.timestamp()) - 1


def _mac(key: bytes, approval_id: str, expires_at: int) -> str:
    message = f"relance-approval:v1:{approval_id}:{expires_at}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(key: bytes, approval_id: str, expires_at: int) -> str:
    """The ``sig`` parameter of a link: the expiry and the HMAC over (id, expiry)."""
    return f"{expires_at}.{_mac(key, approval_id, expires_at)}"


def verify(key: bytes, approval_id: str, sig: str) -> int | None:
    """The expiry carried by ``sig`` when its HMAC is right for ``approval_id`` (constant time), else None."""
    match = _SIG.match(sig or "")
    if match is None:
        return None
    expires_at = int(match.group(1))
    expected = _mac(key, approval_id, expires_at)
    return expires_at if hmac.compare_digest(expected.encode(), match.group(2).encode()) else None


# ---- the deliberate act (issue 14.4) ---------------------------------------------------------------
# Mail scanners GET links and some POST the first form with its default values. A decision needs two
# things they do not do: the form value the GET issued (signed over the approval id and the moment of the
# GET, so it cannot be made up or taken from another approval; the decision itself is one-time), and the
# confirmation code the approver reads on the page and types.
FORM_TTL_SECONDS = 12 * 3600      # a page left open half a day still works
_FORM = re.compile(r"^(\d{1,12})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$")


def _form_mac(key: bytes, approval_id: str, issued_at: int, nonce: str) -> str:
    message = f"relance-approval-form:v1:{approval_id}:{issued_at}:{nonce}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).rstrip(b"=").decode()


def form_token(key: bytes, approval_id: str, issued_at: float) -> str:
    """The one-time value a GET puts in the form: ``<issued_at>.<nonce>.<mac>``."""
    moment, nonce = int(issued_at), secrets.token_urlsafe(12)
    return f"{moment}.{nonce}.{_form_mac(key, approval_id, moment, nonce)}"


def check_form_token(key: bytes, approval_id: str, token: str, now: float) -> bool:
    """Whether ``token`` was issued by a GET of this approval's page in the last FORM_TTL_SECONDS."""
    match = _FORM.match(token or "")
    if match is None:
        return False
    issued_at = int(match.group(1))
    expected = _form_mac(key, approval_id, issued_at, match.group(2))
    if not hmac.compare_digest(expected.encode(), match.group(3).encode()):
        return False
    return issued_at - 60 <= now <= issued_at + FORM_TTL_SECONDS


def confirmation_code(case_id: str) -> str:
    """What the approver types: the last four letters or digits of the case reference, upper case."""
    return re.sub(r"[^A-Za-z0-9]", "", case_id)[-4:].upper()


def code_matches(case_id: str, typed: str) -> bool:
    return bool(typed) and re.sub(r"\s", "", typed).upper() == confirmation_code(case_id)


def approval_link(base_url: str, approval_id: str, sig: str) -> str:
    return f"{base_url.rstrip('/')}/approvals/{approval_id}?" + urllib.parse.urlencode({"sig": sig})


def signing_key(secret_arn: str, secrets: Secrets) -> bytes:
    """The signing key from the secrets port (Powertools parameters: cached a few minutes, ``max_age``)."""
    key = secrets.secret(secret_arn).encode()
    if len(key) < 32:
        raise ValueError("the approval signing secret is too short (at least 32 characters)")
    return key


def forget_keys() -> None:
    """Drop cached keys (a rotated secret, a new embedded AWS)."""
    from relance import wiring

    wiring.forget_secrets()


# ---- the decision ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """What a request on a link may do: ``status`` 200 (pending and valid) or 403/404/410, and the item."""

    status: int
    approval: dict[str, Any] | None = None
    reason: str = ""


def check_link(services: Services, secret_arn: str, approval_id: str, sig: str, now: float) -> Check:
    """Forged -> 403, expired -> 410, unknown -> 404, already used -> 410, else 200 with the approval.

    The signature is checked before anything is read, so a forged link costs no database read and tells
    nothing about which ids exist.
    """
    if not ID_PATTERN.match(approval_id or ""):
        return Check(404, reason="unknown")
    key = signing_key(secret_arn, services.secrets)
    expires_at = verify(key, approval_id, sig)
    if expires_at is None:
        return Check(403, reason="forged")
    if now > expires_at:
        return Check(410, reason="expired")
    approval = services.store.get_approval(approval_id)
    if approval is None:
        return Check(404, reason="unknown")
    if int(approval.get("expires_at_link", -1)) != expires_at:
        return Check(403, reason="forged")
    if approval.get("status") != "pending":
        return Check(410, approval, reason="used" if approval.get("status") != "expired" else "expired")
    return Check(200, approval)


def decide(services: Services, approval: dict[str, Any], decision: str, reason: str, now: float) -> bool:
    """Record the decision once and hand it to the waiting state machine. False if someone decided first.

    The conditional write comes first (a double click or a replayed POST decides nothing the second
    time); if Step Functions cannot be told, the approval goes back to pending and the error propagates.
    """
    approval_id = str(approval["approval_id"])
    decided_on = dt.datetime.fromtimestamp(now, PARIS).date().isoformat()
    status = "approved" if decision == "approve" else "rejected"
    details = {"decided_on": decided_on, "decided_at": int(now), "reason": reason[:500]}
    if not services.store.decide_approval(approval_id, status, details):
        return False
    try:
        if decision == "approve":
            services.workflow.succeed(approval["task_token"], {"decision": "approve", "decided_on": decided_on,
                                                               "approval_id": approval_id})
        else:
            services.workflow.fail(approval["task_token"], "Rejected",
                                   {"reason": reason[:500], "date": decided_on, "approval_id": approval_id})
        # False: the machine already gave up (safety-net timeout): the approval stays decided
    except Exception:
        services.store.decide_approval(approval_id, "pending", {"reverted_at": int(time.time())},
                                       expected=status)
        raise
    return True
