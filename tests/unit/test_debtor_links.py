"""The debtor's links: ids, signatures, expiry and the answer checks (pure core, no AWS)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from relance.debtor import links
from relance.debtor.service import DebtorPage, _details
from relance.escalation import approvals

KEY = b"k" * 48
OTHER_KEY = b"o" * 48


@dataclass
class MemoryLinks:
    items: dict[str, str] = field(default_factory=dict)
    counts: dict[tuple[str, dt.date], int] = field(default_factory=dict)
    claims: set[tuple[str, str]] = field(default_factory=set)
    reads: int = 0

    def put_link(self, link_id: str, customer_id: str, today: dt.date) -> None:
        self.items[link_id] = customer_id

    def customer_of(self, link_id: str) -> str | None:
        self.reads += 1
        return self.items.get(link_id)

    def count_answer(self, link_id: str, day: dt.date, limit: int) -> bool:
        if self.counts.get((link_id, day), 0) >= limit:
            return False
        self.counts[(link_id, day)] = self.counts.get((link_id, day), 0) + 1
        return True

    def claim_answer(self, link_id: str, digest: str, day: dt.date) -> bool:
        if (link_id, digest) in self.claims:
            return False
        self.claims.add((link_id, digest))
        return True

    def release_answer(self, link_id: str, digest: str) -> None:
        self.claims.discard((link_id, digest))


def _page(store: MemoryLinks) -> DebtorPage:
    services: Any = None          # check() never reaches the ledger
    return DebtorPage(services, store, KEY)


def test_link_ids_are_stable_opaque_and_depend_on_key_and_customer() -> None:
    a = links.link_id(KEY, "C1")
    assert a == links.link_id(KEY, "C1") and links.ID_PATTERN.match(a)
    assert a != links.link_id(KEY, "C2") and a != links.link_id(OTHER_KEY, "C1")
    assert "C1" not in a


def test_make_link_signs_an_expiry_and_stores_the_id() -> None:
    store = MemoryLinks()
    url = links.make_link(KEY, "https://x.example/Prod/", "C1", dt.date(2026, 4, 9), store)
    lid = links.link_id(KEY, "C1")
    assert url.startswith(f"https://x.example/Prod/p/{lid}?sig=") and store.items == {lid: "C1"}
    sig = url.split("sig=")[1]
    expires_at = links.verify(KEY, lid, sig)
    assert expires_at == approvals.expiry_moment(dt.date(2026, 4, 9) + dt.timedelta(days=links.LINK_VALID_DAYS))


def test_verify_refuses_tampering_other_ids_other_keys_and_approval_signatures() -> None:
    lid = links.link_id(KEY, "C1")
    sig = links.sign(KEY, lid, 1_800_000_000)
    assert links.verify(KEY, lid, sig) == 1_800_000_000
    expires, mac = sig.split(".")
    assert links.verify(KEY, lid, f"{int(expires) + 1}.{mac}") is None
    assert links.verify(KEY, lid, f"{expires}.{('A' if mac[0] != 'A' else 'B') + mac[1:]}") is None
    assert links.verify(KEY, links.link_id(KEY, "C2"), sig) is None
    assert links.verify(OTHER_KEY, lid, sig) is None
    assert links.verify(KEY, lid, approvals.sign(KEY, lid, 1_800_000_000)) is None   # another domain
    for junk in ("", "abc", f"{expires}.", f".{mac}", f"{expires}.{mac}x", "1e9." + mac):
        assert links.verify(KEY, lid, junk) is None
    assert links.verify(KEY, "../C1", sig) is None


def test_check_forged_costs_no_read_expired_and_unknown_are_403_alike() -> None:
    store = MemoryLinks()
    lid = links.link_id(KEY, "C1")
    store.put_link(lid, "C1", dt.date(2026, 4, 9))
    page = _page(store)
    sig = links.sign(KEY, lid, 1_800_000_000)
    assert page.check(lid, "1800000000." + "A" * 43, 1_700_000_000).status == 403 and store.reads == 0
    ok = page.check(lid, sig, 1_700_000_000)
    assert (ok.status, ok.customer_id) == (200, "C1")
    assert page.check(lid, sig, 1_800_000_001).status == 403 and page.check(lid, sig, 1_800_000_001).reason \
        == "expired"
    ghost = links.link_id(KEY, "C9")
    unknown = page.check(ghost, links.sign(KEY, ghost, 1_800_000_000), 1_700_000_000)
    assert (unknown.status, unknown.customer_id) == (403, "")


def test_memory_rate_limit_model() -> None:
    store = MemoryLinks()
    day = dt.date(2026, 4, 24)
    assert [store.count_answer("x", day, links.ANSWERS_PER_DAY) for _ in range(7)] == [True] * 5 + [False] * 2
    assert store.count_answer("x", day + dt.timedelta(days=1), links.ANSWERS_PER_DAY)
    assert store.count_answer("y", day, links.ANSWERS_PER_DAY)


TODAY = dt.date(2026, 4, 24)


@pytest.mark.parametrize(("answer", "form", "expected"), [
    ("paid", {}, {"paid_on": "2026-04-24"}),
    ("paid", {"paid_on": "2026-04-20", "reference": "  VIR   20/04 "}, {"paid_on": "2026-04-20",
                                                                       "reference": "VIR 20/04"}),
    ("dispute", {"reason": " Livraison\nincomplète "}, {"reason": "Livraison incomplète"}),
    ("promise", {"until": "2026-05-12"}, {"until": "2026-05-12"}),
])
def test_answers_are_normalised(answer: str, form: dict[str, str], expected: dict[str, str]) -> None:
    assert _details(answer, form, TODAY) == expected


@pytest.mark.parametrize(("answer", "form"), [
    ("paid", {"paid_on": "2026-04-25"}),           # in the future
    ("paid", {"paid_on": "2025-01-01"}),           # more than a year ago
    ("paid", {"paid_on": "24/04/2026"}),
    ("dispute", {"reason": "   "}),
    ("promise", {}),
    ("promise", {"until": "2026-04-24"}),          # today is no promise
    ("promise", {"until": "2027-06-01"}),
    ("other", {}),
    ("", {}),
])
def test_bad_answers_are_refused(answer: str, form: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        _details(answer, form, TODAY)
