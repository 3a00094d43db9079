"""Issue 14 point 2: ids are user data; keys, tags and headers never make two of them one.

``C/1`` and ``C_1``, ``CL.7`` and ``CL_7`` are different customers: their registered letters must land on
different S3 keys, their emails must carry tags and headers that map back to exactly them, and a bounce
must mark the customer who bounced, not the other one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.bounces import handle_ses_notification
from relance.channels.base import OutgoingMessage
from relance.channels.email import SesEmailChannel
from relance.channels.letter import LetterChannel, PrintQueueProvider
from relance.dispatch import case_id_for
from relance.keys import from_key_list, from_key_part, from_tag_value, key_list, key_part, tag_value

PAIRS = [("C/1", "C_1"), ("CL.7", "CL_7"), ("A-B", "A_B"), ("x%2F", "x/")]
IDS = st.text(st.sampled_from("AZaz09._-/%~ é"), min_size=1, max_size=30)


def _message(customer: str, invoices: tuple[str, ...] = ("F/2026/7",)) -> OutgoingMessage:
    return OutgoingMessage(step="formal_notice", customer_id=customer, customer_name="Client", invoice_ids=invoices,
                           run_date=dt.date(2026, 5, 18), subject="Mise en demeure", text="t", pdf=b"%PDF-1.4",
                           email="compta@client.example", address="4 rue des Lilas, 69003 Lyon")


@dataclass
class FakeFiles:
    """The files port (the letters bucket), in memory."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, key: str, body: bytes, content_type: str, metadata: Any = None) -> None:
        self.objects[key] = {"Body": body, "ContentType": content_type, "Metadata": metadata}


@dataclass
class FakeMailer:
    """The mailer port, recording what SES would have been asked to send."""

    sent: list[dict[str, Any]] = field(default_factory=list)

    def send_raw(self, **kwargs: Any) -> str:
        self.sent.append(kwargs)
        return f"m{len(self.sent)}"


@pytest.mark.parametrize(("one", "other"), PAIRS)
def test_two_customers_letters_and_print_queue_never_share_a_key(one: str, other: str) -> None:
    s3 = FakeFiles()
    channel = LetterChannel(s3, PrintQueueProvider(s3))
    channel.send(_message(one))
    channel.send(_message(other))
    assert len(s3.objects) == 4, sorted(s3.objects)           # two letters, two print-queue entries
    for key in s3.objects:
        assert "//" not in key and ".." not in key


def test_invoice_lists_never_share_a_key() -> None:
    s3 = FakeFiles()
    channel = LetterChannel(s3, PrintQueueProvider(s3))
    channel.send(_message("C1", ("A-B",)))
    channel.send(_message("C1", ("A", "B")))
    assert len(s3.objects) == 4, sorted(s3.objects)


@pytest.mark.parametrize(("one", "other"), PAIRS)
def test_tags_and_headers_tell_two_customers_apart_and_map_back(one: str, other: str) -> None:
    ses = FakeMailer()
    channel = SesEmailChannel(ses, "relance@exemple.example", "Exemple", "compta@exemple.example")
    channel.send(_message(one))
    channel.send(_message(other))
    tags = [dict(request["tags"]) for request in ses.sent]
    assert tags[0]["customer"] != tags[1]["customer"]
    assert [from_tag_value(t["customer"]) for t in tags] == [one, other]
    for t in tags:
        assert all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in t["customer"]), t
    headers = [message_from_bytes(r["mime"]) for r in ses.sent]
    assert [from_key_part(h["X-Relance-Customer"]) for h in headers] == [one, other]
    assert [from_key_part(h["X-Relance-Invoices"]) for h in headers] == ["F/2026/7", "F/2026/7"]


@dataclass
class FakeStore:
    customers: set[str]
    marked: list[str] = field(default_factory=list)

    def get_customer_raw(self, customer_id: str) -> dict[str, Any] | None:
        return {"id": customer_id} if customer_id in self.customers else None

    def set_customer_fields(self, customer_id: str, **fields: Any) -> None:
        self.marked.append(customer_id)

    def customer_collection(self, customer_id: str) -> tuple[Any, list[str]]:
        return None, []

    def add_event(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(("one", "other"), PAIRS)
def test_a_bounce_marks_the_customer_who_bounced(one: str, other: str) -> None:
    ses = FakeMailer()
    SesEmailChannel(ses, "relance@exemple.example", "Exemple", "compta@exemple.example").send(_message(one))
    tags = {name: [value] for name, value in ses.sent[0]["tags"].items()}
    store = FakeStore({one, other})
    bounce = {"eventType": "Bounce", "bounce": {"bounceType": "Permanent"},
              "mail": {"timestamp": "2026-05-18T08:00:00Z", "tags": tags}}
    assert handle_ses_notification(store, bounce) == 1   # type: ignore[arg-type]
    assert store.marked == [one]


def test_a_legacy_or_foreign_tag_marks_nobody() -> None:
    store = FakeStore({"C_1", "C/1"})
    bounce = {"eventType": "Bounce", "bounce": {"bounceType": "Permanent"},
              "mail": {"tags": {"customer": ["C_1", "not base64!"]}}}
    assert handle_ses_notification(store, bounce) == 0   # type: ignore[arg-type]


def test_case_ids_are_valid_execution_names_and_distinct() -> None:
    one, other = case_id_for("C/1", "handoff", ["F/1"]), case_id_for("C_1", "handoff", ["F/1"])
    assert one != other
    for case in (one, other):
        assert all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in case), case


@given(IDS, IDS)
def test_encodings_are_injective_and_reversible(a: str, b: str) -> None:
    assert from_key_part(key_part(a)) == a and from_tag_value(tag_value(a)) == a
    assert from_key_list(key_list([a, b])) == [a, b]
    if a != b:
        assert key_part(a) != key_part(b) and tag_value(a) != tag_value(b)
    assert set(key_part(a)) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-%")
