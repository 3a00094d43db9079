"""Partners as data (policies/partners/partners.yaml) and how a case reaches them: email, optional webhook.

The shipped file holds no partner: partners are the user's data. A route with no partner fails with an
error naming it (at the hand-off, and before a deploy with ``relance partners check``). The demo, the
scenarios and the tests use ``events/partners.yaml`` (``RELANCE_PARTNERS_FILE``).

The policy's route names a partner by id or by kind (``commissaire_de_justice``, ``collection_agency``);
the first partner of that kind is used. Webhooks go through a pluggable :class:`HttpSender`: in
production :class:`UrllibSender` (HTTPS only, short timeout); with ``RELANCE_WEBHOOK_SENDER=record``
(configuration: the embedded AWS of development, tests and the simulator sets it), a
:class:`RecordingSender` keeps the requests in memory and nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from relance.errors import RelanceError
from relance.paths import policies_dir

PartnerKind = Literal["collection_agency", "commissaire_de_justice", "avocat"]
# avocat: a lawyer who takes a public buyer before the administrative judge (référé-provision, CJA R541-1)
KINDS: tuple[str, ...] = ("collection_agency", "commissaire_de_justice", "avocat")


@dataclass(frozen=True, slots=True)
class Partner:
    """Who a case is handed to."""

    id: str
    name: str
    kind: str
    email: str
    webhook: str | None = None


def partners_file() -> Path:
    return Path(os.environ.get("RELANCE_PARTNERS_FILE") or policies_dir() / "partners" / "partners.yaml")


def load_partners(path: Path | None = None) -> list[Partner]:
    """Read and check the partners file; errors name the file and the entry."""
    import yaml  # here: only the tasks that route a case read the partners

    path = path or partners_file()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RelanceError(f"cannot read the partners: {exc}", str(path)) from None
    entries = document.get("partners", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise RelanceError("expected a list under 'partners'", str(path))
    partners: list[Partner] = []
    for i, entry in enumerate(entries):
        where = f"{path}: partners[{i}]"
        if not isinstance(entry, dict):
            raise RelanceError("each partner is a mapping", where)
        missing = [k for k in ("id", "name", "kind", "email") if not entry.get(k)]
        if missing:
            raise RelanceError(f"missing {', '.join(missing)}", where)
        if entry["kind"] not in KINDS:
            raise RelanceError(f"kind {entry['kind']!r} is not one of {', '.join(KINDS)}", where)
        webhook = entry.get("webhook")
        if webhook is not None and not str(webhook).startswith("https://"):
            raise RelanceError("webhook must be an https:// URL", where)
        partners.append(Partner(str(entry["id"]), str(entry["name"]), str(entry["kind"]), str(entry["email"]),
                                str(webhook) if webhook else None))
    return partners


def resolve(reference: str, partners: list[Partner] | None = None) -> Partner:
    """The partner a route names: by id first, else the first of that kind."""
    partners = partners if partners is not None else load_partners()
    for partner in partners:
        if partner.id == reference:
            return partner
    for partner in partners:
        if partner.kind == reference:
            return partner
    raise RelanceError(f"no partner for route {reference!r}: add a partner with that id or kind to "
                       f"{partners_file()} (docs/deploy.md)", "escalation route")


def check_routes(policies: Mapping[str, Any], partners: list[Partner] | None = None) -> list[str]:
    """One line per route of the policies that no partner serves (empty: every hand-off can go out)."""
    partners = partners if partners is not None else load_partners()
    known = {p.id for p in partners} | {p.kind for p in partners}
    problems = []
    for name, policy in sorted(policies.items()):
        for step in policy.steps:
            for entry in step.route or ():
                if entry.partner not in known:
                    problems.append(f"policy {name}, step {step.id}: no partner for route {entry.partner!r}")
    return problems


# ---- webhooks -------------------------------------------------------------------------------------
class HttpSender(Protocol):
    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body`` to ``url``; returns the HTTP status."""
        ...


@dataclass
class RecordingSender:
    """Keeps every request instead of sending it (tests, the embedded AWS, the simulator)."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 202
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        with self._lock:
            self.requests.append({"url": url, "body": json.loads(body), "headers": dict(headers)})
        return self.status


class UrllibSender:
    """HTTPS POST with a short timeout; a non-2xx answer or a network error raises (the task retries)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        if not url.startswith("https://"):
            raise RelanceError("webhooks are sent over HTTPS only", url)
        request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return int(response.status)


RECORDED = RecordingSender()
"""The recording sender used when nothing may leave the machine."""
_sender: HttpSender | None = None


def set_http_sender(sender: HttpSender | None) -> None:
    """Plug a sender (None: back to the default choice)."""
    global _sender
    _sender = sender


def http_sender() -> HttpSender:
    """The plugged sender; else recording when ``RELANCE_WEBHOOK_SENDER=record`` (the embedded AWS sets it)."""
    if _sender is not None:
        return _sender
    if os.environ.get("RELANCE_WEBHOOK_SENDER") == "record":
        return RECORDED
    return UrllibSender()


def post_case(partner: Partner, payload: Mapping[str, Any], sender: HttpSender | None = None) -> int | None:
    """POST the case to the partner's webhook, if it has one; returns the HTTP status (None: no webhook)."""
    if not partner.webhook:
        return None
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "relance/1",
               "Idempotency-Key": str(payload.get("case_id", ""))}
    status = (sender or http_sender())(partner.webhook, body, headers)
    if not 200 <= status < 300:
        raise RelanceError(f"the partner's webhook answered HTTP {status}", partner.webhook)
    return status
