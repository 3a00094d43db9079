"""The store on DynamoDB: the only module that knows the table's keys (implements :class:`relance.ports.Store`).

Single-table design (one on-demand table, see template.yaml):

==========================  ===========================  ==========================================
pk                          sk                           what
==========================  ===========================  ==========================================
``CUST#<customer>``         ``PROFILE``                  the customer record
``CUST#<customer>``         ``INV#<invoice>``            the invoice and its dunning state (``status``)
``CUST#<customer>``         ``INV#<invoice>#CLAIM#<s>``  step ``s`` claimed before it is sent (at most once)
``INV#<invoice>``           ``OWNER``                    the invoice's customer (look-up by invoice id)
``INV#<invoice>``           ``EVT#<date>#<seq>``         immutable history events
``QUAR#<kind>#<id>``        ``QUAR``                     a quarantined record and its reason
``ACT#<date>``              ``<customer>#<invoice>``     the invoice had events that day (weekly digest)
==========================  ===========================  ==========================================

The sparse GSI ``due`` (``due_pk`` = ``DUE#<shard>``, ``due_sk`` = ``<date>#<customer>#<invoice>``) holds only
invoices that have a next action, so the daily run reads the due invoices and nothing else (one shard by
default: ``DueShards`` only matters for very large books). The pointers to pending approvals are in it too
(``due_sk`` = ``<date>#APPROVAL#<approval id>``, the date of the reminder, then the day after the expiry), so
the daily run's one Query also returns the approvals the sweep must act on today.

A customer message costs four calls: one consistent Query of the customer's partition returns the profile,
the open invoices and their claims; one call claims the step for all the message's invoices (a conditional
Put, or a TransactWriteItems with ``ReturnValuesOnConditionCheckFailure``, which also writes the debtor-page
link's item when the message carries one); the send; one TransactWriteItems
with a ClientRequestToken records the send, the events, the next actions and settles the claims (groups over
the 100-item limit are cut at invoice boundaries).

Limits: an item is at most 400 KB: the state item holds no history (events are items of their own), so it
stays a few kB. A Query page is at most 1 MB: every Query is paginated, so a large customer costs one more
call per MB of its partition (settled claims of paid invoices stay there, about 150 bytes each).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from relance.adapters.aws.pointers import CasePointers
from relance.errors import RelanceError
from relance.money import cents
from relance.store import (
    BadRecord,
    Claim,
    ConflictError,
    CustomerBook,
    CustomerItems,
    InvoiceRecord,
    SentStep,
    StateChange,
)

DUE_INDEX = "due"
# History is kept for the longest limitation period (5 years, C. com. L110-4) plus one year of margin, then
# DynamoDB's TTL removes it (GDPR storage limitation).
HISTORY_RETENTION_DAYS = 6 * 366
# "Activity of the day" markers only serve the weekly digest: TTL removes them after a few weeks.
ACTIVITY_RETENTION_DAYS = 35

_ser = TypeSerializer()
_deser = TypeDeserializer()


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deser.deserialize(v) for k, v in item.items()}


def shard_of(customer_id: str, shards: int) -> int:
    """Stable shard of a customer: all its invoices land in the same partition of the due index."""
    return int.from_bytes(hashlib.blake2b(customer_id.encode(), digest_size=4).digest(), "big") % shards


def due_keys(customer_id: str, invoice_id: str, next_action: dt.date, shards: int) -> dict[str, str]:
    return {
        "due_pk": f"DUE#{shard_of(customer_id, shards)}",
        "due_sk": f"{next_action.isoformat()}#{customer_id}#{invoice_id}",
    }


# How long a debtor-page link item is kept after its latest write (it outlives every link signed for it).
LINK_RETENTION_DAYS = 6 * 366


def debtor_link_item(link_id: str, customer_id: str, today: dt.date) -> dict[str, Any]:
    """The item mapping a debtor-page link id to its customer (``adapters/aws/debtor_links.py`` reads it)."""
    return {"pk": f"DEBTOR#{link_id}", "sk": "LINK", "type": "debtor_link", "customer_id": customer_id,
            "expires_at": ttl_after(today, LINK_RETENTION_DAYS)}


def approval_due_keys(approval_id: str, expires: dt.date | str, remind_on: dt.date | str | None, reminded: bool,
                      shards: int) -> dict[str, str]:
    """Due-index keys of a pending approval's pointer: due on its reminder date until the reminder went out,
    then on the day after its expiry (the sweep expires it then)."""
    after = dt.date.fromisoformat(str(expires)) + dt.timedelta(days=1)
    when = after
    if remind_on and not reminded:
        when = min(dt.date.fromisoformat(str(remind_on)), after)
    return approval_due_at(approval_id, when, shards)


def approval_due_at(approval_id: str, when: dt.date, shards: int) -> dict[str, str]:
    return {"due_pk": f"DUE#{shard_of(approval_id, shards)}", "due_sk": f"{when.isoformat()}#APPROVAL#{approval_id}"}


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def invoice_from_item(item: Mapping[str, Any]) -> InvoiceRecord:
    """Decode an invoice state item. Raises KeyError/ValueError on a malformed item (the caller quarantines it)."""
    data = item["data"]
    return InvoiceRecord(
        invoice_id=_invoice_of(item),
        customer_id=data["customer"],
        raw=data,
        status=item.get("status", "open"),
        balance=Decimal(item["balance"]),
        sent=tuple(SentStep(s["step"], dt.date.fromisoformat(s["date"]), tuple(s.get("channels", ())),
                            bool(s.get("flagged", False))) for s in item.get("sent", [])),
        payments=tuple((dt.date.fromisoformat(p["date"]), Decimal(p["amount"]))
                       for p in item.get("payments", [])),
        disputed=bool(item.get("disputed", False)),
        promise_until=_date(item.get("promise_until")),
        plan=tuple((dt.date.fromisoformat(p["date"]), Decimal(p["amount"])) for p in item.get("plan", [])),
        manual_pause=bool(item.get("manual_pause", False)),
        next_action=_date(item.get("next_action")),
        send_failures=int(item.get("send_failures", 0)),
        version=int(item.get("version", 0)),
        attachment_key=item.get("attachment_key"),
        accessories_due=Decimal(item.get("accessories_due", "0")),
        to_decide=item.get("to_decide") or None,
        notice_effective=_date(item.get("notice_effective")),
    )


def _invoice_of(item: Mapping[str, Any]) -> str:
    """The invoice id of a state item (``sk`` = ``INV#<invoice>``; ``INV#<invoice>``/``META`` before)."""
    sk = str(item.get("sk", ""))
    return sk.removeprefix("INV#") if sk.startswith("INV#") else str(item["pk"]).removeprefix("INV#")


def _sent_to_item(sent: Iterable[SentStep]) -> list[dict[str, Any]]:
    return [{"step": s.step, "date": s.date.isoformat(), "channels": list(s.channels), "flagged": s.flagged}
            for s in sent]


def state_key(customer_id: str, invoice_id: str) -> dict[str, str]:
    """Key of an invoice's state item, in its customer's partition."""
    return {"pk": f"CUST#{customer_id}", "sk": f"INV#{invoice_id}"}


def claim_key(customer_id: str, invoice_id: str, step: str) -> dict[str, str]:
    return {"pk": f"CUST#{customer_id}", "sk": f"INV#{invoice_id}{CLAIM_MARK}{step}"}


def owner_key(invoice_id: str) -> dict[str, str]:
    return {"pk": f"INV#{invoice_id}", "sk": "OWNER"}


def invoice_items(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The items of an invoice written as is (bulk loads, tests): its state item and its owner pointer.

    ``fields`` are the state item's attributes (``data`` with ``customer``, ``status``, ``balance``...).
    """
    iid, cid = str(fields["data"]["id"]), str(fields["data"].get("customer", ""))
    return [{**fields, **state_key(cid, iid), "type": "invoice"},
            {**owner_key(iid), "type": "owner", "customer": cid}]


def ttl_after(when: dt.date, days: int) -> int:
    """DynamoDB's TTL value (epoch seconds, UTC midnight) ``days`` after ``when``."""
    return int(dt.datetime.combine(when + dt.timedelta(days=days), dt.time(), tzinfo=dt.UTC).timestamp())


@dataclass
class OnTheTable:
    """Base of the smaller adapters that keep their own items in the relance table, through the same
    :class:`Store` (its low-level client and table name) the ledger uses."""

    store: Any    # the DynamoDB Store

    @property
    def _client(self) -> Any:
        return self.store.client

    @property
    def _table(self) -> str:
        return str(self.store.table)


CLAIM_MARK = "#CLAIM#"
PENDING_APPROVALS_PK = "APPROVAL#PENDING"
# One transaction holds at most 100 items (DynamoDB's limit); a grouped write is cut at invoice boundaries.
TRANSACTION_ITEMS = 100


@dataclass
class Store(CasePointers):
    """Typed access to the relance table through a low-level DynamoDB client.

    Sizes: an invoice's state item holds its fields, its sent steps and payments (a few kB, far below
    DynamoDB's 400 KB item limit); its history is one small item per event in its own partition, so the
    state never grows with the history. A customer's partition is read with a paginated Query: past the
    1 MB page limit it costs one more call per MB, never a lost item.
    """

    client: Any
    table: str
    shards: int = 1
    _seq: Iterator[int] = field(default_factory=itertools.count, repr=False)
    _owners: dict[str, str] = field(default_factory=dict, repr=False)

    # ---- customers -------------------------------------------------------------------------------
    def put_customer(self, customer: Mapping[str, Any]) -> None:
        """Create or replace a customer profile (``customer`` is the validated record as plain fields)."""
        self.client.put_item(TableName=self.table, Item=_to_item(
            {"pk": f"CUST#{customer['id']}", "sk": "PROFILE", "type": "customer", "data": dict(customer)}))

    def get_customer_raw(self, customer_id: str) -> dict[str, Any] | None:
        resp = self.client.get_item(TableName=self.table, Key=_to_item(
            {"pk": f"CUST#{customer_id}", "sk": "PROFILE"}), ConsistentRead=True)
        return _from_item(resp["Item"])["data"] if "Item" in resp else None

    def set_customer_fields(self, customer_id: str, **fields: Any) -> None:
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        values = {f":v{i}": v for i, v in enumerate(fields.values())}
        expr = ", ".join(f"#d.{n} = {v}" for n, v in zip(names, values, strict=True))
        self.client.update_item(
            TableName=self.table, Key=_to_item({"pk": f"CUST#{customer_id}", "sk": "PROFILE"}),
            UpdateExpression=f"SET {expr}", ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#d": "data", **names},
            ExpressionAttributeValues=_to_item(values))

    def customer_book(self, customer_id: str) -> CustomerBook:
        """The profile, the open invoices and their claims: one consistent Query of the customer's partition."""
        book = CustomerBook(None)
        claims: dict[tuple[str, str], Claim] = {}
        for item in self._query(KeyConditionExpression="pk = :pk",
                                ExpressionAttributeValues=_to_item({":pk": f"CUST#{customer_id}"}),
                                ConsistentRead=True):
            sk = str(item["sk"])
            if sk == "PROFILE":
                book.profile = item.get("data")
            elif CLAIM_MARK in sk:
                iid, step = sk.removeprefix("INV#").split(CLAIM_MARK, 1)
                claims[(iid, step)] = _claim_of(item)
            elif sk.startswith("INV#"):
                iid = sk.removeprefix("INV#")
                self._owners[iid] = customer_id
                if item.get("status", "open") == "open":
                    book.invoices[iid] = _decoded(iid, item)
        book.claims = {key: claim for key, claim in claims.items() if key[0] in book.invoices}
        return book

    def customer_collection(self, customer_id: str) -> tuple[dict[str, Any] | None, list[str]]:
        """The customer profile (raw fields, or None) and the ids of its open invoices, in one query."""
        book = self.customer_book(customer_id)
        return book.profile, list(book.invoices)

    # ---- invoices --------------------------------------------------------------------------------
    def create_invoice(self, invoice: Mapping[str, Any], next_action: dt.date | None,
                       event_date: dt.date, attachment_key: str | None = None) -> bool:
        """Create an invoice with its owner pointer and an ``imported`` event; False if it already exists."""
        items = self._invoice_items(invoice, next_action, event_date, attachment_key)
        created = _unless_condition_fails(self.client.transact_write_items, TransactItems=items)
        if created:
            self._owners[str(invoice["id"])] = str(invoice["customer"])
        return created

    def _invoice_items(self, invoice: Mapping[str, Any], next_action: dt.date | None, event_date: dt.date,
                       attachment_key: str | None) -> list[dict[str, Any]]:
        iid, cid = invoice["id"], invoice["customer"]
        state: dict[str, Any] = {
            **state_key(cid, iid), "type": "invoice", "data": dict(invoice),
            "status": invoice.get("status", "open"),
            "balance": str(invoice.get("balance") or invoice["amount"]),
            "sent": [], "payments": [], "version": 1, "attachment_key": attachment_key,
        }
        if next_action:
            state.update(next_action=next_action.isoformat(), **due_keys(cid, iid, next_action, self.shards))
        items = [
            {"Put": {"TableName": self.table, "Item": _to_item({**owner_key(iid), "type": "owner", "customer": cid}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self.table, "Item": _to_item(state)}},
            {"Put": {"TableName": self.table, "Item": _to_item(self._event_item(
                iid, event_date, "imported", {"amount": str(invoice["amount"]), "due": str(invoice["due"])}))}},
        ]
        return items

    # ---- batches for imports (issue 14.7) --------------------------------------------------------------
    def get_customers_raw(self, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Profiles (``data``) of several customers: BatchGetItem, 100 at a time, unprocessed keys retried."""
        found: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(customer_ids))
        for start in range(0, len(ids), 100):
            keys = [_to_item({"pk": f"CUST#{c}", "sk": "PROFILE"}) for c in ids[start:start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(8):
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    decoded = _from_item(item)
                    found[decoded["pk"].removeprefix("CUST#")] = decoded["data"]
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2 ** attempt, 1.0))
        return found

    def put_customers(self, customers: Sequence[Mapping[str, Any]]) -> None:
        """Create or replace several profiles: BatchWriteItem, 25 at a time, unprocessed items retried."""
        for start in range(0, len(customers), 25):
            request: dict[str, Any] = {self.table: [{"PutRequest": {"Item": _to_item(
                {"pk": f"CUST#{c['id']}", "sk": "PROFILE", "type": "customer", "data": dict(c)})}}
                for c in customers[start:start + 25]]}
            for attempt in range(8):
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2 ** attempt, 1.0))
            if request:
                raise RelanceError("DynamoDB kept refusing the batch of customers; import again")

    def create_invoices(self, invoices: Sequence[tuple[Mapping[str, Any], dt.date | None]], event_date: dt.date
                        ) -> list[str]:
        """Create new invoices (with their open pointer and ``imported`` event) 33 per transaction, each
        still conditional on not existing; a transaction cancelled by one condition is redone invoice by
        invoice. Returns the ids that already existed (created by someone else meanwhile)."""
        existed: list[str] = []
        for start in range(0, len(invoices), 33):
            chunk = invoices[start:start + 33]
            items = [item for fields, nxt in chunk for item in self._invoice_items(fields, nxt, event_date, None)]
            if _unless_condition_fails(self.client.transact_write_items, TransactItems=items):
                self._owners.update({str(fields["id"]): str(fields["customer"]) for fields, _ in chunk})
            else:
                existed += [str(fields["id"]) for fields, nxt in chunk
                            if not self.create_invoice(fields, nxt, event_date)]
        return existed

    # ---- payment idempotency keys (issue 14.5) -----------------------------------------------------
    def get_payment_key(self, invoice_id: str, key_digest: str) -> dict[str, Any] | None:
        """The payment booked under an idempotency key (its digest) on this invoice, if any."""
        resp = self.client.get_item(TableName=self.table, Key=_to_item(
            {"pk": f"INV#{invoice_id}", "sk": f"PAYKEY#{key_digest}"}), ConsistentRead=True)
        return _from_item(resp["Item"]) if "Item" in resp else None

    def payment_key_put(self, invoice_id: str, key_digest: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The transaction item that claims an idempotency key with the payment it books (written once)."""
        return {"Put": {"TableName": self.table, "ConditionExpression": "attribute_not_exists(pk)",
                        "Item": _to_item({"pk": f"INV#{invoice_id}", "sk": f"PAYKEY#{key_digest}",
                                          "type": "payment_key", **fields})}}

    # ---- operators' listings: a paginated Scan (the CLI, never the daily run) -------------------------
    def all_invoices(self) -> Iterator[InvoiceRecord]:
        """Every invoice of the table; an item that does not decode is left out (the daily run quarantines it)."""
        for item in self._scan("#t = :invoice AND begins_with(pk, :c)", {":invoice": "invoice", ":c": "CUST#"}):
            try:
                yield invoice_from_item(item)
            except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError):
                continue

    def all_customers(self) -> Iterator[dict[str, Any]]:
        """Every customer profile of the table (its fields)."""
        for item in self._scan("sk = :p AND begins_with(pk, :c)", {":p": "PROFILE", ":c": "CUST#"}):
            yield dict(item.get("data") or {})

    def _scan(self, expression: str, values: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        names = {"#t": "type"} if "#t" in expression else {}
        for page in self.client.get_paginator("scan").paginate(
                TableName=self.table, FilterExpression=expression, ExpressionAttributeValues=_to_item(values),
                **({"ExpressionAttributeNames": names} if names else {})):
            for item in page.get("Items", []):
                yield _from_item(item)

    def owner(self, invoice_id: str) -> str | None:
        """The customer of an invoice (it never changes: kept in memory once read)."""
        if invoice_id not in self._owners:
            resp = self.client.get_item(TableName=self.table, Key=_to_item(owner_key(invoice_id)),
                                        ConsistentRead=True)
            if "Item" not in resp:
                return None
            self._owners[invoice_id] = str(_from_item(resp["Item"]).get("customer", ""))
        return self._owners[invoice_id]

    def get_invoice(self, invoice_id: str) -> InvoiceRecord | None:
        customer = self.owner(invoice_id)
        if customer is None:
            return None
        resp = self.client.get_item(TableName=self.table, Key=_to_item(state_key(customer, invoice_id)),
                                    ConsistentRead=True)
        return invoice_from_item(_from_item(resp["Item"])) if "Item" in resp else None

    def get_invoice_items(self, invoice_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """State items of several invoices (BatchGetItem, 100 at a time, unprocessed keys retried)."""
        unknown = [i for i in dict.fromkeys(invoice_ids) if i not in self._owners]
        for item in self._batch_get([owner_key(i) for i in unknown]):
            self._owners[str(item["pk"]).removeprefix("INV#")] = str(item.get("customer", ""))
        keys = [state_key(self._owners[i], i) for i in dict.fromkeys(invoice_ids) if i in self._owners]
        return {_invoice_of(item): item for item in self._batch_get(keys)}

    def get_invoices(self, invoice_ids: Sequence[str]) -> dict[str, InvoiceRecord | BadRecord]:
        """Decoded invoices (a malformed one as BadRecord, for quarantine); missing ones are left out."""
        return {iid: _decoded(iid, item) for iid, item in self.get_invoice_items(invoice_ids).items()}

    def _batch_get(self, keys: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {self.table: {"Keys": [_to_item(k) for k in keys[start:start + 100]],
                                                    "ConsistentRead": True}}
            for attempt in range(8):
                resp = self.client.batch_get_item(RequestItems=request)
                found += [_from_item(item) for item in resp["Responses"].get(self.table, [])]
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2 ** attempt, 1.0))
        return found

    def update_invoice_state(self, record: InvoiceRecord, *, changes: Mapping[str, Any],
                             next_action: dt.date | None, events: Sequence[tuple[dt.date, str, Mapping[str, Any]]] = (),
                             settle_claim: tuple[str, str] | None = None,
                             payment_key: tuple[str, Mapping[str, Any]] | None = None) -> None:
        """Apply ``changes`` to an invoice's state, set its next action, and append events, atomically.

        Guarded by the record's version: a concurrent writer makes this raise ConflictError. ``changes``
        keys are state attributes (``status``, ``balance``, ``sent`` as SentStep tuples, ``payments``,
        ``disputed``, ``promise_until``, ``plan``, ``manual_pause``, ``send_failures``). ``settle_claim``
        (step, ``sent``/``flagged``) settles that step's claim in the same transaction; ``payment_key``
        (digest, fields) writes a payment's idempotency key in it, once (a second write fails the condition).
        """
        self.update_invoice_states([StateChange(record, changes, next_action, events, settle_claim, payment_key)])

    def update_invoice_states(self, group: Sequence[StateChange], token: str | None = None) -> None:
        """Several invoices' changes (one message's sends, events, next actions and claim settlements).

        One TransactWriteItems per 100 items, cut at invoice boundaries, each with a ClientRequestToken
        derived from ``token`` and the versions it expects (a retried call is applied once). A version
        that changed meanwhile raises ConflictError naming the invoices already written.
        """
        chunks: list[list[tuple[str, list[dict[str, Any]]]]] = [[]]
        size = 0
        for change in group:
            items = self._state_items(change)
            if size + len(items) > TRANSACTION_ITEMS and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append((change.record.invoice_id, items))
            size += len(items)
        written: list[str] = []
        for chunk in chunks:
            if not chunk:
                continue
            request: dict[str, Any] = {"TransactItems": [item for _, items in chunk for item in items]}
            if token:
                versions = [(c.record.invoice_id, c.record.version) for c in group
                            if c.record.invoice_id in {iid for iid, _ in chunk}]
                request["ClientRequestToken"] = hashlib.sha256(
                    repr((token, versions)).encode()).hexdigest()[:36]
            try:
                self.client.transact_write_items(**request)
            except ClientError as exc:
                if _cancelled_by_condition(exc):
                    ids = ", ".join(iid for iid, _ in chunk)
                    raise ConflictError(f"invoice(s) {ids} changed concurrently", written) from exc
                raise
            written += [iid for iid, _ in chunk]

    def _state_items(self, change: StateChange) -> list[dict[str, Any]]:
        record, iid, cid = change.record, change.record.invoice_id, change.record.customer_id
        sets: dict[str, Any] = {"version": record.version + 1}
        removes: list[str] = []
        for key, value in change.changes.items():
            if key == "sent":
                value = _sent_to_item(value)
            elif key in ("payments", "plan"):
                value = [{"date": d.isoformat(), "amount": str(a)} for d, a in value]
            elif isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(cents(value))
            if value is None:
                removes.append(key)
            else:
                sets[key] = value
        status = change.changes.get("status", record.status)
        if change.next_action is not None and status == "open":
            sets.update(next_action=change.next_action.isoformat(),
                        **due_keys(cid, iid, change.next_action, self.shards))
        else:
            removes += ["next_action", "due_pk", "due_sk"]
        names = {f"#a{i}": k for i, k in enumerate(itertools.chain(sets, removes))}
        by_attr = {v: k for k, v in names.items()}
        values = {f":v{i}": v for i, v in enumerate(sets.values())}
        expr = "SET " + ", ".join(f"{by_attr[k]} = :v{i}" for i, k in enumerate(sets))
        if removes:
            expr += " REMOVE " + ", ".join(by_attr[k] for k in removes)
        values[":expected"] = record.version
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self.table, "Key": _to_item(state_key(cid, iid)),
            "UpdateExpression": expr, "ConditionExpression": "version = :expected",
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": _to_item(values)}}]
        for when, kind, details in change.events:
            items.append({"Put": {"TableName": self.table, "Item": _to_item(self._event_item(
                iid, when, kind, details))}})
        for when in sorted({when for when, _, _ in change.events}):
            items.append({"Put": {"TableName": self.table, "Item": _to_item(_activity_item(cid, iid, when))}})
        if change.settle_claim is not None:
            step, claim_status = change.settle_claim
            items.append({"Update": {
                "TableName": self.table, "Key": _to_item(claim_key(cid, iid, step)),
                "UpdateExpression": "SET #s = :s", "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": _to_item({":s": claim_status})}})
        if change.payment_key is not None:
            items.append(self.payment_key_put(iid, *change.payment_key))
        return items

    # ---- claims ----------------------------------------------------------------------------------
    def claim(self, invoice_id: str, step: str, run_date: dt.date) -> Claim | None:
        """Claim an invoice-step before sending it. Returns None when claimed, else the existing claim."""
        customer = self.owner(invoice_id) or ""
        return self.claim_all(customer, [invoice_id], step, run_date)[invoice_id]

    def claim_all(self, customer_id: str, invoice_ids: Sequence[str], step: str,
                  run_date: dt.date, *, link_id: str | None = None) -> dict[str, Claim | None]:
        """Claim one step of several invoices of a customer in one call (a conditional Put for one invoice, a
        TransactWriteItems for more). Returns, per invoice, None when claimed now, else the existing claim.

        A transaction is all or nothing: when some claims exist already (their condition fails, the old
        item comes back with ``ReturnValuesOnConditionCheckFailure``), the others are claimed again.
        ``link_id``: the customer's debtor-page link item is written in the same call (a transaction then,
        even for one invoice), so it exists before the message carrying the link goes out.
        """
        result: dict[str, Claim | None] = {}
        pending = list(dict.fromkeys(invoice_ids))
        extra = [_to_item(debtor_link_item(link_id, customer_id, run_date))] if link_id else []
        while pending:
            chunk, rest = pending[:TRANSACTION_ITEMS - len(extra)], pending[TRANSACTION_ITEMS - len(extra):]
            now = int(time.time())
            items = [_to_item({**claim_key(customer_id, iid, step), "type": "claim", "status": "claimed",
                               "run_date": run_date.isoformat(), "claimed_at": now}) for iid in chunk]
            if len(chunk) == 1 and not extra:
                try:
                    self.client.put_item(TableName=self.table, Item=items[0],
                                         ConditionExpression="attribute_not_exists(pk)",
                                         ReturnValuesOnConditionCheckFailure="ALL_OLD")
                    result[chunk[0]] = None
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
                    old = exc.response.get("Item")
                    result[chunk[0]] = (_claim_of(_from_item(old)) if old
                                        else self._get_claim(customer_id, chunk[0], step))
                pending = rest
                continue
            try:
                self.client.transact_write_items(TransactItems=[
                    {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)",
                             "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for item in items]
                    + [{"Put": {"TableName": self.table, "Item": item}} for item in extra])
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
                if not failed:
                    raise
                for i in failed:
                    old = reasons[i].get("Item")
                    result[chunk[i]] = (_claim_of(_from_item(old)) if old
                                        else self._get_claim(customer_id, chunk[i], step))
                pending = [iid for i, iid in enumerate(chunk) if i not in failed] + rest
                continue
            result.update(dict.fromkeys(chunk))
            pending = rest
        return result

    def _get_claim(self, customer_id: str, invoice_id: str, step: str) -> Claim:
        resp = self.client.get_item(TableName=self.table, Key=_to_item(claim_key(customer_id, invoice_id, step)),
                                    ConsistentRead=True)
        return _claim_of(_from_item(resp.get("Item", {})))

    def get_claim(self, invoice_id: str, step: str) -> Claim | None:
        """The claim of an invoice-step, or None (tests and checks)."""
        customer = self.owner(invoice_id)
        if customer is None:
            return None
        resp = self.client.get_item(TableName=self.table, Key=_to_item(claim_key(customer, invoice_id, step)),
                                    ConsistentRead=True)
        return _claim_of(_from_item(resp["Item"])) if "Item" in resp else None

    def release_claim(self, invoice_id: str, step: str) -> None:
        """Drop a claim whose send is known NOT to have happened (the message was refused)."""
        self.client.delete_item(
            TableName=self.table, Key=_to_item(claim_key(self.owner(invoice_id) or "", invoice_id, step)),
            ConditionExpression="#s = :claimed", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=_to_item({":claimed": "claimed"}))

    # ---- history ---------------------------------------------------------------------------------
    def _event_item(self, invoice_id: str, when: dt.date, kind: str,
                    details: Mapping[str, Any]) -> dict[str, Any]:
        seq = f"{time.time_ns():020d}{next(self._seq) % 1000:03d}"
        expires = dt.datetime.combine(when + dt.timedelta(days=HISTORY_RETENTION_DAYS), dt.time(),
                                      tzinfo=dt.UTC)
        return {"pk": f"INV#{invoice_id}", "sk": f"EVT#{when.isoformat()}#{seq}", "type": "event",
                "kind": kind, "date": when.isoformat(), "details": dict(details),
                "expires_at": int(expires.timestamp())}

    def add_event(self, invoice_id: str, when: dt.date, kind: str, details: Mapping[str, Any]) -> None:
        self.client.put_item(TableName=self.table, Item=_to_item(self._event_item(
            invoice_id, when, kind, details)))

    def history(self, invoice_id: str) -> list[dict[str, Any]]:
        """Every event of an invoice, oldest first."""
        return list(self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :evt)",
            ExpressionAttributeValues=_to_item({":pk": f"INV#{invoice_id}", ":evt": "EVT#"})))

    def active_invoices(self, first: dt.date, last: dt.date) -> set[tuple[str, str]]:
        """(customer, invoice) of every invoice whose state changed with events from ``first`` to ``last``
        (sends, payments, flags...), open or closed since: one small partition per day."""
        found: set[tuple[str, str]] = set()
        day = first
        while day <= last:
            for item in self._query(KeyConditionExpression="pk = :pk",
                                    ExpressionAttributeValues=_to_item({":pk": f"ACT#{day.isoformat()}"})):
                found.add((str(item["customer"]), str(item["invoice"])))
            day += dt.timedelta(days=1)
        return found

    # ---- quarantine ------------------------------------------------------------------------------
    def quarantine(self, kind: str, record_id: str, reason: str, when: dt.date,
                   record: Mapping[str, Any] | None = None) -> bool:
        """Keep a bad record aside with its reason (nothing is lost). False if it was already there."""
        return _unless_condition_fails(
            self.client.put_item,
            TableName=self.table,
            Item=_to_item({"pk": f"QUAR#{kind}#{record_id}", "sk": "QUAR", "type": "quarantine",
                           "kind": kind, "record_id": record_id, "reason": reason,
                           "date": when.isoformat(), "record": {k: str(v) for k, v in (record or {}).items()}}),
            ConditionExpression="attribute_not_exists(pk)")

    def take_out_of_due_index(self, invoice_id: str) -> None:
        """Stop the daily run from picking up an invoice that cannot be processed (it stays stored)."""
        customer = self.owner(invoice_id)
        if customer is None:
            return
        self.client.update_item(
            TableName=self.table, Key=_to_item(state_key(customer, invoice_id)),
            UpdateExpression="REMOVE due_pk, due_sk, next_action SET quarantined = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=_to_item({":t": True}))

    # ---- the due index ---------------------------------------------------------------------------
    def due_entries(self, run_date: dt.date) -> Iterator[tuple[str, str]]:
        """(customer, invoice) for every invoice whose next action is on or before ``run_date``.

        Reads only the due entries: the range condition stops at ``run_date``, so invoices that are not
        due are never read.
        """
        for kind, first, second in self.due_work(run_date):
            if kind == "invoice":
                yield first, second

    def due_work(self, run_date: dt.date) -> Iterator[tuple[str, str, str]]:
        """Everything due on or before ``run_date``, from the one due index: ``("invoice", customer, invoice)``
        and ``("approval", approval id, expiry date)`` (a pending approval with a reminder or expiry due)."""
        upper = (run_date + dt.timedelta(days=1)).isoformat()
        for shard in range(self.shards):
            for item in self._query(IndexName=DUE_INDEX,
                                    KeyConditionExpression="due_pk = :pk AND due_sk < :upper",
                                    ExpressionAttributeValues=_to_item(
                                        {":pk": f"DUE#{shard}", ":upper": upper})):
                if item.get("pk") == PENDING_APPROVALS_PK:
                    expires, approval_id = str(item["sk"]).split("#", 1)
                    yield "approval", approval_id, expires
                    continue
                _, customer, invoice = item["due_sk"].split("#", 2)
                yield "invoice", customer, invoice

    # ---- personal data (GDPR: relance.gdpr) -----------------------------------------------------
    def customer_items(self, customer_id: str) -> CustomerItems:
        """Every item stored about a customer, decoded; each keeps a ``ref`` (its key) for rewrites.

        The customer's partition holds its profile, invoices and claims (one Query); each invoice's history
        is one Query of its own partition; cases need one filtered, paginated Scan (an operator's command,
        run rarely; memory holds one page and this customer's items).
        """
        data = CustomerItems(customer_id, None)
        for item in self._query(KeyConditionExpression="pk = :pk",
                                ExpressionAttributeValues=_to_item({":pk": f"CUST#{customer_id}"}),
                                ConsistentRead=True):
            sk = str(item["sk"])
            if sk == "PROFILE":
                data.profile = _with_ref(item)
            elif CLAIM_MARK in sk:
                iid, step = sk.removeprefix("INV#").split(CLAIM_MARK, 1)
                data.claims.setdefault(iid, []).append({**_with_ref(item), "step": step})
            elif sk.startswith("INV#"):
                data.metas[sk.removeprefix("INV#")] = _with_ref(item)
            else:
                data.pointers.append(_with_ref(item))
        for iid in sorted(data.metas):
            data.claims.setdefault(iid, [])
            data.events[iid] = [_with_ref(e) for e in self.history(iid)]
        data.cases = [_with_ref(item) for item in self._scan_cases(customer_id)]
        keys = [("customer", customer_id), *(("invoice", iid) for iid in data.metas)]
        data.quarantine = [_with_ref(q) for q in quarantine_items(self, keys)]
        return data

    def replace_profile(self, profile: Mapping[str, Any], fields: Mapping[str, Any], erased_on: dt.date) -> None:
        """Rewrite a customer profile (from :meth:`customer_items`) with only ``fields`` left in its data."""
        kept = {k: v for k, v in profile.items() if k not in ("data", "ref")}
        self.client.put_item(TableName=self.table, Item=_to_item(
            {**kept, **profile["ref"], "data": dict(fields), "erased_on": erased_on.isoformat()}))

    def set_event_details(self, event: Mapping[str, Any], details: Mapping[str, Any]) -> None:
        self.client.update_item(
            TableName=self.table, Key=_to_item(dict(event["ref"])),
            UpdateExpression="SET details = :d", ExpressionAttributeValues=_to_item({":d": dict(details)}))

    def empty_quarantine(self, item: Mapping[str, Any], reason: str) -> None:
        self.client.update_item(
            TableName=self.table, Key=_to_item(dict(item["ref"])),
            UpdateExpression="SET #r = :e, reason = :reason", ExpressionAttributeNames={"#r": "record"},
            ExpressionAttributeValues=_to_item({":e": {}, ":reason": reason}))

    def _scan_cases(self, customer_id: str) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(
                TableName=self.table, FilterExpression="#t = :case AND #c = :cid",
                ExpressionAttributeNames={"#t": "type", "#c": "customer"},
                ExpressionAttributeValues=_to_item({":cid": customer_id, ":case": "case"}),
                ConsistentRead=True):
            for item in page["Items"]:
                yield _from_item(item)

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(TableName=self.table, **kwargs):
            for item in page["Items"]:
                yield _from_item(item)


def _decoded(invoice_id: str, item: Mapping[str, Any]) -> InvoiceRecord | BadRecord:
    try:
        return invoice_from_item(item)
    except (KeyError, ValueError, TypeError, ArithmeticError, AttributeError) as exc:
        return BadRecord(invoice_id, _fields_of(item), f"invoice {invoice_id}: malformed ({exc!r})")


def _with_ref(item: Mapping[str, Any]) -> dict[str, Any]:
    """A decoded item without its keys, and ``ref`` (the key) to write it back."""
    return {**{k: v for k, v in item.items() if k not in ("pk", "sk")},
            "ref": {"pk": item["pk"], "sk": item["sk"]}}


def _claim_of(item: Mapping[str, Any]) -> Claim:
    return Claim(str(item.get("status", "claimed")), str(item["run_date"]) if item.get("run_date") else None,
                 int(item.get("claimed_at", 0)))


def _fields_of(item: Mapping[str, Any]) -> dict[str, Any]:
    data = item.get("data", item)
    return dict(data) if isinstance(data, Mapping) else {}


def _activity_item(customer_id: str, invoice_id: str, when: dt.date) -> dict[str, Any]:
    expires = dt.datetime.combine(when + dt.timedelta(days=ACTIVITY_RETENTION_DAYS), dt.time(), tzinfo=dt.UTC)
    return {"pk": f"ACT#{when.isoformat()}", "sk": f"{customer_id}#{invoice_id}", "type": "activity",
            "customer": customer_id, "invoice": invoice_id, "expires_at": int(expires.timestamp())}


def _unless_condition_fails(call: Any, **kwargs: Any) -> bool:
    """Run a conditional write (or transaction); False when a condition does not hold (someone was first)."""
    try:
        call(**kwargs)
    except ClientError as exc:
        if _cancelled_by_condition(exc):
            return False
        raise
    return True


def _cancelled_by_condition(exc: ClientError) -> bool:
    code = exc.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons") or []
    return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)


# ---- escalation: cases and approvals (added by the escalation work; new item types only) --------------
# ``CASE#<case_id>`` / ``CASE``                 an escalation case: its file, partner, outcome token
# ``APPROVAL#<approval_id>`` / ``APPROVAL``     one approval request: the task token, expiry, status
# ``APPROVAL#PENDING`` / ``<expires>#<id>``     pointer to a pending approval (in the due index: the daily run
#                                              finds it on the days its reminder or expiry is due)


class EscalationStore(Store):
    """The store with the escalation's item types (cases, approvals). Same table, same client."""

    @classmethod
    def of(cls, store: Store) -> EscalationStore:
        return cls(store.client, store.table, store.shards)

    # ---- cases -----------------------------------------------------------------------------------
    def put_case(self, case_id: str, fields: Mapping[str, Any]) -> None:
        """Create or refresh a case item; fields set by later steps (outcome token...) are kept."""
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        values = {f":v{i}": v for i, v in enumerate(fields.values())}
        expr = ", ".join(f"{n} = {v}" for n, v in zip(names, values, strict=True))
        self.client.update_item(
            TableName=self.table, Key=_to_item({"pk": f"CASE#{case_id}", "sk": "CASE"}),
            UpdateExpression=f"SET #type = :type, {expr}",
            ExpressionAttributeNames={"#type": "type", **names},
            ExpressionAttributeValues=_to_item({":type": "case", **values}))

    def get_case(self, case_id: str) -> dict[str, Any] | None:
        resp = self.client.get_item(TableName=self.table, Key=_to_item(
            {"pk": f"CASE#{case_id}", "sk": "CASE"}), ConsistentRead=True)
        return _from_item(resp["Item"]) if "Item" in resp else None

    def update_case(self, case_id: str, fields: Mapping[str, Any], *, expect: Mapping[str, Any] | None = None,
                    absent: Sequence[str] = ()) -> bool:
        """Set ``fields`` on an existing case; with ``expect``/``absent`` only if those attributes match.

        Returns False when the condition failed (someone else got there first).
        """
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        values = {f":v{i}": v for i, v in enumerate(fields.values())}
        sets = ", ".join(f"{n} = {v}" for n, v in zip(names, values, strict=True))
        conditions = ["attribute_exists(pk)"]
        for i, (key, value) in enumerate((expect or {}).items()):
            names[f"#e{i}"], values[f":e{i}"] = key, value
            conditions.append(f"#e{i} = :e{i}")
        for i, key in enumerate(absent):
            names[f"#a{i}"] = key
            conditions.append(f"attribute_not_exists(#a{i})")
        return _unless_condition_fails(
            self.client.update_item,
            TableName=self.table, Key=_to_item({"pk": f"CASE#{case_id}", "sk": "CASE"}),
            UpdateExpression=f"SET {sets}", ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names, ExpressionAttributeValues=_to_item(values))

    # ---- approvals -------------------------------------------------------------------------------
    def put_approval(self, approval_id: str, fields: Mapping[str, Any], expires: dt.date) -> None:
        """A new pending approval and its pointer in the pending list, atomically."""
        item = {"pk": f"APPROVAL#{approval_id}", "sk": "APPROVAL", "type": "approval", "status": "pending",
                "expires": expires.isoformat(), **fields}
        # The pointer carries the dates the sweep acts on, so a quiet day reads no approval at all.
        pointer = {"pk": PENDING_APPROVALS_PK, "sk": f"{expires.isoformat()}#{approval_id}",
                   "approval_id": approval_id, "case_id": fields.get("case_id"), "remind_on": fields.get("remind_on"),
                   **approval_due_keys(approval_id, expires, fields.get("remind_on"), False, self.shards)}
        self.client.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table, "Item": _to_item(item),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self.table, "Item": _to_item(pointer)}},
        ])

    def get_approval(self, approval_id: str) -> dict[str, Any] | None:
        resp = self.client.get_item(TableName=self.table, Key=self._approval_key(approval_id),
                                    ConsistentRead=True)
        return {**_from_item(resp["Item"]), "approval_id": approval_id} if "Item" in resp else None

    def pending_approvals(self) -> list[dict[str, Any]]:
        """Pointers to the approvals still pending (``approval_id``, ``expires``, ``case_id``, ``remind_on``,
        ``reminded``), soonest expiry first (one small partition)."""
        return [{**item, "expires": str(item["sk"]).split("#", 1)[0]}
                for item in self._query(KeyConditionExpression="pk = :pk",
                                        ExpressionAttributeValues=_to_item({":pk": PENDING_APPROVALS_PK}),
                                        ConsistentRead=True)]

    def index_pending_approval(self, pointer: Mapping[str, Any]) -> None:
        """Put a pointer written before the due index held approvals into it (from :meth:`pending_approvals`)."""
        approval_id, expires = str(pointer["approval_id"]), str(pointer["expires"])
        keys = approval_due_keys(approval_id, expires, pointer.get("remind_on"), bool(pointer.get("reminded")),
                                 self.shards)
        _unless_condition_fails(
            self.client.update_item, TableName=self.table, Key=self._pending_pointer_key(approval_id, expires),
            UpdateExpression="SET due_pk = :pk, due_sk = :sk", ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=_to_item({":pk": keys["due_pk"], ":sk": keys["due_sk"]}))

    def refresh_approval_token(self, approval_id: str, token: str) -> bool:
        """A retried approval task got a new token: keep the request, swap the token (if still pending)."""
        return _unless_condition_fails(
            self.client.update_item,
            TableName=self.table, Key=self._approval_key(approval_id),
            UpdateExpression="SET task_token = :t", ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=_to_item({":t": token, ":pending": "pending"}))

    def mark_reminded(self, approval_id: str, when: dt.date, expires: dt.date) -> bool:
        """Record the reminder once, on the approval and its pending pointer: False if it was already sent
        or the approval is no longer pending."""
        return _unless_condition_fails(self.client.transact_write_items, TransactItems=[
            {"Update": {"TableName": self.table,
                        "Key": self._approval_key(approval_id),
                        "UpdateExpression": "SET reminded = :d",
                        "ConditionExpression": "#s = :pending AND attribute_not_exists(reminded)",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": _to_item({":d": when.isoformat(), ":pending": "pending"})}},
            {"Update": {"TableName": self.table, "Key": self._pending_pointer_key(approval_id, expires),
                        "UpdateExpression": "SET reminded = :d, due_pk = :pk, due_sk = :sk",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": _to_item({":d": when.isoformat(), **self._due_values(
                            approval_due_keys(approval_id, expires, None, True, self.shards))})}},
        ])

    def unmark_reminded(self, approval_id: str, expires: dt.date, retry_on: dt.date | None = None) -> None:
        """The reminder could not be sent: let the next sweep (on or after ``retry_on``) try again."""
        due = approval_due_at(approval_id, retry_on or dt.date.min, self.shards)
        self.client.transact_write_items(TransactItems=[
            {"Update": {"TableName": self.table,
                        "Key": self._approval_key(approval_id),
                        "UpdateExpression": "REMOVE reminded"}},
            {"Update": {"TableName": self.table, "Key": self._pending_pointer_key(approval_id, expires),
                        "UpdateExpression": "REMOVE reminded SET due_pk = :pk, due_sk = :sk",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": _to_item(self._due_values(due))}},
        ])

    @staticmethod
    def _due_values(keys: Mapping[str, str]) -> dict[str, str]:
        return {":pk": keys["due_pk"], ":sk": keys["due_sk"]}

    @staticmethod
    def _approval_key(approval_id: str) -> dict[str, Any]:
        return _to_item({"pk": f"APPROVAL#{approval_id}", "sk": "APPROVAL"})

    @staticmethod
    def _pending_pointer_key(approval_id: str, expires: dt.date | str) -> dict[str, Any]:
        day = expires.isoformat() if isinstance(expires, dt.date) else expires
        return _to_item({"pk": PENDING_APPROVALS_PK, "sk": f"{day}#{approval_id}"})

    def decide_approval(self, approval_id: str, status: str, details: Mapping[str, Any],
                        expected: str = "pending") -> bool:
        """Move an approval from ``expected`` to ``status`` exactly once (and drop its pending pointer).

        Returns False when it was not ``expected`` any more (already decided, expired, or reverted).
        """
        current = self.get_approval(approval_id)
        if current is None:
            return False
        fields = {"status": status, **details}
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        values = {f":v{i}": v for i, v in enumerate(fields.values())}
        sets = ", ".join(f"{n} = {v}" for n, v in zip(names, values, strict=True))
        names["#s"] = "status"
        values[":expected"] = expected
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self.table, "Key": self._approval_key(approval_id),
            "UpdateExpression": f"SET {sets}", "ConditionExpression": "#s = :expected",
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": _to_item(values)}}]
        pointer = self._pending_pointer_key(approval_id, str(current["expires"]))
        if status == "pending":
            items.append({"Put": {"TableName": self.table, "Item": {**pointer, **_to_item(
                {"approval_id": approval_id, "case_id": current.get("case_id"),
                 "remind_on": current.get("remind_on"), "reminded": current.get("reminded"),
                 **approval_due_keys(approval_id, str(current["expires"]), current.get("remind_on"),
                                     bool(current.get("reminded")), self.shards)})}}})
        else:
            items.append({"Delete": {"TableName": self.table, "Key": pointer}})
        return _unless_condition_fails(self.client.transact_write_items, TransactItems=items)


# ---- read helpers for the simulator's log and the weekly digest (appended; read-only) ------------------
def events_between(store: Store, invoice_id: str, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """History events of one invoice dated ``first``..``last`` (one bounded query on its item collection)."""
    return list(store._query(
        KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
        ExpressionAttributeValues=_to_item({":pk": f"INV#{invoice_id}", ":lo": f"EVT#{first.isoformat()}",
                                            ":hi": f"EVT#{last.isoformat()}#~"})))


def quarantine_items(store: Store, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The quarantine items that exist among ``(kind, record_id)`` keys (BatchGetItem, 100 at a time)."""
    found: list[dict[str, Any]] = []
    unique = sorted(set(keys))
    for start in range(0, len(unique), 100):
        request: dict[str, Any] = {store.table: {"Keys": [
            _to_item({"pk": f"QUAR#{kind}#{rid}", "sk": "QUAR"}) for kind, rid in unique[start:start + 100]]}}
        for attempt in range(8):
            resp = store.client.batch_get_item(RequestItems=request)
            found += [_from_item(item) for item in resp["Responses"].get(store.table, [])]
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2 ** attempt, 1.0))
    return found

