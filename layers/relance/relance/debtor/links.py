"""The debtor's link: ``<base>/p/<link id>?sig=<expires_at>.<mac>``.

The link id is an HMAC of the customer id under the approval links' key (Secrets Manager), cut to 192
bits: it cannot be guessed or derived from a customer id without the key, so no one can walk to another
customer's page; the table maps it back to the customer (``adapters/aws/debtor_links.py``). The ``sig``
is an HMAC over the link id and the expiry, like the approval links (another domain string, so neither
kind of signature is valid for the other). The URL carries no customer id, amount or name.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import urllib.parse
from typing import Protocol

from relance.escalation.approvals import expiry_moment

LINK_VALID_DAYS = 60          # a reminder's link works this long after the reminder was sent
ANSWERS_PER_DAY = 5           # answers one link may give in a day (Europe/Paris)
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
_SIG = re.compile(r"^(\d{1,12})\.([A-Za-z0-9_-]{43})$")
PATH = "/p/"


class LinkStore(Protocol):
    """Where link ids, the per-day answer counters and the answers taken are kept."""

    def put_link(self, link_id: str, customer_id: str, today: dt.date) -> None: ...

    def customer_of(self, link_id: str) -> str | None: ...

    def count_answer(self, link_id: str, day: dt.date, limit: int) -> bool: ...

    def claim_answer(self, link_id: str, digest: str, day: dt.date) -> bool: ...

    def release_answer(self, link_id: str, digest: str) -> None: ...


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_id(key: bytes, customer_id: str) -> str:
    """The customer's opaque link id (stable: the same customer always gets the same id)."""
    return _b64(hmac.new(key, f"relance-debtor-id:v1:{customer_id}".encode(), hashlib.sha256).digest())[:32]


def _mac(key: bytes, lid: str, expires_at: int) -> str:
    return _b64(hmac.new(key, f"relance-debtor:v1:{lid}:{expires_at}".encode(), hashlib.sha256).digest())


def sign(key: bytes, lid: str, expires_at: int) -> str:
    return f"{expires_at}.{_mac(key, lid, expires_at)}"


def verify(key: bytes, lid: str, sig: str) -> int | None:
    """The expiry carried by ``sig`` when its HMAC is right for ``lid`` (constant time), else None."""
    match = _SIG.match(sig or "")
    if match is None or not ID_PATTERN.match(lid or ""):
        return None
    expires_at = int(match.group(1))
    expected = _mac(key, lid, expires_at)
    return expires_at if hmac.compare_digest(expected.encode(), match.group(2).encode()) else None


def url(base_url: str, lid: str, sig: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}{lid}?" + urllib.parse.urlencode({"sig": sig})


def make_link(key: bytes, base_url: str, customer_id: str, sent_on: dt.date, store: LinkStore) -> str:
    """A link for a message sent on ``sent_on``; writes the id -> customer item (idempotent put)."""
    store.put_link(link_id(key, customer_id), customer_id, sent_on)
    return signed_link(key, base_url, customer_id, sent_on)


def signed_link(key: bytes, base_url: str, customer_id: str, sent_on: dt.date) -> str:
    """The link of a message sent on ``sent_on``, without writing its item (dispatch writes it with the
    message's claim: :attr:`relance.dispatch.Dispatcher.debtor_link_id`)."""
    lid = link_id(key, customer_id)
    expires_at = expiry_moment(sent_on + dt.timedelta(days=LINK_VALID_DAYS))
    return url(base_url, lid, sign(key, lid, expires_at))
