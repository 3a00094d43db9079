"""Approval links: HMAC-SHA256 over (id, expiry), constant-time check, expiry at the end of a Paris day."""

from __future__ import annotations

import datetime as dt
import hmac
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from relance.escalation import approvals
from relance.escalation.page import case_page, message_page
from relance_dev.inputs import api_event

KEY = b"k" * 64
ID = approvals.new_approval_id()


def test_ids_are_random_and_url_safe() -> None:
    ids = {approvals.new_approval_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(approvals.ID_PATTERN.match(i) and len(i) == 43 for i in ids)


def test_sign_then_verify_gives_the_expiry() -> None:
    sig = approvals.sign(KEY, ID, 1_781_301_599)
    assert approvals.verify(KEY, ID, sig) == 1_781_301_599


def test_any_change_breaks_the_signature() -> None:
    sig = approvals.sign(KEY, ID, 1_781_301_599)
    expires, mac = sig.split(".")
    assert approvals.verify(KEY, ID + "x", sig) is None
    assert approvals.verify(KEY, ID, f"{int(expires) + 1}.{mac}") is None
    assert approvals.verify(b"z" * 64, ID, sig) is None
    for bad in ("", "abc", f"{expires}.", f".{mac}", f"{expires}.{mac}=", f"{expires}.{mac[:-1]}", sig + "A"):
        assert approvals.verify(KEY, ID, bad) is None


def test_verification_uses_a_constant_time_comparison() -> None:
    sig = approvals.sign(KEY, ID, 100)
    with mock.patch.object(approvals.hmac, "compare_digest", wraps=hmac.compare_digest) as compare:
        assert approvals.verify(KEY, ID, sig) == 100
    compare.assert_called_once()


@given(other=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=20,
                     max_size=64), expires=st.integers(min_value=0, max_value=10**11))
def test_a_signature_is_only_good_for_its_own_id_and_expiry(other: str, expires: int) -> None:
    sig = approvals.sign(KEY, ID, expires)
    assert approvals.verify(KEY, ID, sig) == expires
    if other != ID:
        assert approvals.verify(KEY, other, sig) is None


def test_links_carry_only_the_id_and_the_signature() -> None:
    link = approvals.approval_link("https://abc.execute-api.eu-west-3.amazonaws.com/Prod/", ID, "12.sig")
    assert link == f"https://abc.execute-api.eu-west-3.amazonaws.com/Prod/approvals/{ID}?sig=12.sig"


def test_a_link_works_through_the_last_day_in_paris() -> None:
    moment = approvals.expiry_moment(dt.date(2026, 6, 12))
    paris = dt.datetime.fromtimestamp(moment, approvals.PARIS)
    assert (paris.date(), paris.hour, paris.minute, paris.second) == (dt.date(2026, 6, 12), 23, 59, 59)
    winter = dt.datetime.fromtimestamp(approvals.expiry_moment(dt.date(2026, 12, 1)), dt.UTC)
    assert (winter.hour, winter.minute) == (22, 59)


def test_api_event_stamps_the_request_time_and_the_form() -> None:
    when = dt.datetime(2026, 6, 7, 10, tzinfo=approvals.PARIS)
    event = api_event("POST", f"https://h.example/Prod/approvals/{ID}?sig=1.x", {"sig": "1.x",
                                                                                         "decision": "approve"},
                                when=when)
    assert event["pathParameters"] == {"id": ID} and event["httpMethod"] == "POST"
    assert event["requestContext"]["requestTimeEpoch"] == int(when.timestamp() * 1000)
    assert event["body"] == "sig=1.x&decision=approve" and event["headers"]["Host"] == "h.example"


def test_pages_escape_everything_and_show_no_error_text() -> None:
    summary = ('{"debtor": {"name": "<script>alert(1)</script>", "kind": "b2b"}, "invoices": [], '
               '"totals": {"balance": "1", "penalties": "0", "indemnity": "0", "claimed": "1"}, "route": {}, '
               '"history": [], "warnings": []}')
    html = case_page({"case_id": "C1-x", "summary": summary}, '1."><b>', "2026-06-12")
    assert "<script>" not in html and "&lt;script&gt;" in html and '"><b>' not in html
    for status in (403, 404, 410, 400, 500, "approve", "reject"):
        assert "Traceback" not in message_page(status) and "<h1>" in message_page(status)
