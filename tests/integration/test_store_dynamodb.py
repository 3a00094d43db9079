"""The DynamoDB store's data model: one Query per customer, one claim call and one record call per message."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from relance.adapters.aws.dynamodb import TRANSACTION_ITEMS, EscalationStore
from relance.store import ConflictError, SentStep, StateChange

DAY = dt.date(2026, 4, 16)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[EscalationStore]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    name = f"t-{uuid.uuid4().hex[:8]}"    # moto's state is process-wide (the shared embedded AWS may hold one)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-3")
        client.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "due_pk", "due_sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "due", "Projection": {"ProjectionType": "KEYS_ONLY"},
                                     "KeySchema": [{"AttributeName": "due_pk", "KeyType": "HASH"},
                                                   {"AttributeName": "due_sk", "KeyType": "RANGE"}]}])
        yield EscalationStore(client, name)


def _book(store: EscalationStore, n: int, customer: str = "C1") -> list[str]:
    store.put_customer({"id": customer, "name": "Client", "kind": "b2b", "email": "a@b.example"})
    ids = [f"F{i:03d}" for i in range(n)]
    for iid in ids:
        assert store.create_invoice({"id": iid, "customer": customer, "issued": "2026-03-16", "due": "2026-04-16",
                                     "amount": "100.00"}, DAY, DAY)
    return ids


def _calls(store: EscalationStore) -> list[str]:
    seen: list[str] = []
    store.client.meta.events.register("before-call", lambda model, **_: seen.append(model.name))
    return seen


def test_one_query_returns_profile_open_invoices_and_claims(store: EscalationStore) -> None:
    # Given three invoices of C1, two of them claimed for the courtesy step
    ids = _book(store, 3)
    assert store.claim_all("C1", ids[:2], "courtesy", DAY) == {ids[0]: None, ids[1]: None}
    # When the customer's book is read
    calls = _calls(store)
    book = store.customer_book("C1")
    # Then it takes one Query
    assert calls == ["Query"]
    # And it has the profile, the three invoices and the two claims
    assert book.profile is not None and book.profile["name"] == "Client"
    assert sorted(book.invoices) == ids
    assert sorted(book.claims) == [(ids[0], "courtesy"), (ids[1], "courtesy")]
    # And an existing invoice is not created again
    assert store.get_invoice(ids[2]) is not None and not store.create_invoice(
        {"id": ids[2], "customer": "C2", "issued": "2026-03-16", "due": "2026-04-16", "amount": "1.00"}, DAY, DAY)


def test_claim_all_is_one_call_and_keeps_existing_claims(store: EscalationStore) -> None:
    # Given three invoices of C1, the second claimed for the due step
    ids = _book(store, 3)
    assert store.claim(ids[1], "due", DAY) is None
    # When all three are claimed for it
    result = store.claim_all("C1", ids, "due", DAY)
    # Then the two others are claimed and the existing claim is returned
    assert result[ids[0]] is None and result[ids[2]] is None
    existing = result[ids[1]]
    assert existing is not None and existing.status == "claimed" and existing.run_date == DAY.isoformat()
    # When all three are claimed for the next step
    calls = _calls(store)
    # Then it is one call
    assert store.claim_all("C1", ids, "firm", DAY) == dict.fromkeys(ids)
    assert calls == ["TransactWriteItems"]


def test_the_debtor_link_item_is_written_in_the_claims_call(store: EscalationStore) -> None:
    from relance.adapters.aws.debtor_links import DynamoLinkStore

    ids = _book(store, 2)
    links = DynamoLinkStore(store)
    calls = _calls(store)
    assert store.claim_all("C1", ids[:1], "courtesy", DAY, link_id="L" * 32) == {ids[0]: None}
    assert calls == ["TransactWriteItems"]                   # one invoice and the link: still one call
    assert links.customer_of("L" * 32) == "C1"
    calls.clear()
    again = store.claim_all("C1", ids[:1], "courtesy", DAY, link_id="M" * 32)
    assert again[ids[0]] is not None                          # already claimed: nothing written, not the link
    assert links.customer_of("M" * 32) is None


def test_a_group_is_recorded_in_one_call_and_cut_at_invoice_boundaries(store: EscalationStore) -> None:
    # Given 40 invoices of C1 claimed for the courtesy step, and their sent state
    ids = _book(store, 40)
    store.claim_all("C1", ids, "courtesy", DAY)
    records = [store.get_invoice(i) for i in ids]
    events: list[tuple[dt.date, str, dict[str, Any]]] = [(DAY, "sent", {"step": "courtesy", "channel": "email"})]
    group = [StateChange(r, {"sent": (SentStep("courtesy", DAY, ("email",)),)}, DAY + dt.timedelta(days=7), events,
                         ("courtesy", "sent")) for r in records if r is not None]
    # When three are recorded
    calls = _calls(store)
    store.update_invoice_states(group[:3], token="x")
    # Then it is one call
    assert calls == ["TransactWriteItems"]                    # three invoices, one call
    # When the other 37 are recorded
    calls.clear()
    # Then the calls are as few as the transaction limit allows, an invoice never cut across two
    store.update_invoice_states(group[3:], token="y")
    per_invoice = 4                                           # state, event, activity, claim
    assert len(calls) == -(-37 // (TRANSACTION_ITEMS // per_invoice))
    # And every claim is sent and every invoice updated once
    book = store.customer_book("C1")
    assert all(c.status == "sent" for c in book.claims.values()) and len(book.claims) == 40
    assert all(r.sent and r.version == 2 for r in book.invoices.values())  # type: ignore[union-attr]


def test_a_conflict_names_what_was_written(store: EscalationStore) -> None:
    # Given 30 invoices, the last changed by someone else first
    ids = _book(store, 30)
    records = [r for i in ids if (r := store.get_invoice(i)) is not None]
    stale = records[-1]
    store.update_invoice_state(stale, changes={"disputed": True}, next_action=None)    # someone else first
    # When the group is recorded
    events = [(DAY, "note", {"n": "1"}), (DAY, "note2", {"n": "2"})]
    group = [StateChange(r, {"send_failures": 1}, DAY, events) for r in records]
    # Then the conflict names the 25 invoices written before it, not the changed one
    with pytest.raises(ConflictError) as caught:
        store.update_invoice_states(group)
    assert stale.invoice_id not in caught.value.written and len(caught.value.written) == 25
