"""The bank import's port (:class:`relance.bank.ports.BankStore`) on the relance DynamoDB table.

Item types (new, used only by the bank import):

==========================  ===========================  ==========================================
pk                          sk                           what
==========================  ===========================  ==========================================
``BANK#<entry key>``        ``ENTRY``                    a statement entry seen: booked or unmatched
``IBAN#<iban>``             ``CUST#<customer>``          a payer's IBAN learnt from a booked payment
==========================  ===========================  ==========================================

Open invoices are read with one filtered Scan of the table per statement file (an import, not the daily
run: its cost grows with the table, once per file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from relance.adapters.aws.dynamodb import OnTheTable, _from_item, _to_item, _unless_condition_fails, ttl_after
from relance.bank.ports import OpenInvoice

HISTORY_DAYS = 6 * 366      # entries are kept as long as the invoices' history (store.HISTORY_RETENTION_DAYS)


def _expires(when: dt.date) -> int:
    return ttl_after(when, HISTORY_DAYS)


@dataclass
class DynamoBankStore(OnTheTable):
    """BankStore over the table's low-level client (the same ``Store`` the ledger uses)."""

    def open_invoices(self) -> list[OpenInvoice]:
        """Invoices still owed (open or handed off, not quarantined) with their customer's name: one Scan."""
        names: dict[str, str] = {}
        found: list[tuple[str, str, Decimal, dt.date]] = []
        paginator = self._client.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._table,
            # handed off invoices are still owed (a partner collects them): a payment to them is booked too
            FilterExpression="(#t = :invoice AND #s IN (:open, :handed)) OR #t = :customer",
            ProjectionExpression="pk, sk, #t, #s, balance, #d.customer, #d.due, #d.#n, quarantined",
            ExpressionAttributeNames={"#t": "type", "#s": "status", "#d": "data", "#n": "name"},
            ExpressionAttributeValues=_to_item({":invoice": "invoice", ":open": "open", ":handed": "handed_off",
                                                ":customer": "customer"}))
        for page in pages:
            for raw in page["Items"]:
                item = _from_item(raw)
                data = item.get("data") or {}
                if item.get("type") == "customer":
                    names[str(item["pk"]).removeprefix("CUST#")] = str(data.get("name", ""))
                    continue
                if item.get("quarantined"):
                    continue
                try:
                    balance = Decimal(str(item["balance"]))
                    due = dt.date.fromisoformat(str(data["due"]))
                except (KeyError, ArithmeticError, ValueError):
                    continue          # a malformed invoice is the dispatcher's to quarantine, not ours to pay
                if balance > 0:
                    # the state item is ``CUST#<customer>`` / ``INV#<invoice>`` (``INV#<invoice>`` / ``META`` before)
                    key = str(item.get("sk", "")) if str(item.get("sk", "")).startswith("INV#") else str(item["pk"])
                    found.append((key.removeprefix("INV#"), str(data.get("customer", "")), balance, due))
        return [OpenInvoice(iid, cid, balance, due, names.get(cid, "")) for iid, cid, balance, due in sorted(found)]

    def customers_of_iban(self, iban: str) -> set[str]:
        resp = self._client.query(TableName=self._table, KeyConditionExpression="pk = :pk",
                                  ExpressionAttributeValues=_to_item({":pk": f"IBAN#{iban}"}), ConsistentRead=True)
        return {str(_from_item(i)["sk"]).removeprefix("CUST#") for i in resp.get("Items", [])}

    def learn_iban(self, iban: str, customer_id: str, when: dt.date) -> None:
        self._client.put_item(TableName=self._table, Item=_to_item(
            {"pk": f"IBAN#{iban}", "sk": f"CUST#{customer_id}", "type": "payer_iban", "learnt_on": when.isoformat(),
             "customer": customer_id}))

    def get_entry(self, key: str) -> dict[str, Any] | None:
        resp = self._client.get_item(TableName=self._table, Key=_to_item({"pk": f"BANK#{key}", "sk": "ENTRY"}),
                                     ConsistentRead=True)
        return _from_item(resp["Item"]) if "Item" in resp else None

    def _item(self, key: str, record: Mapping[str, Any]) -> dict[str, Any]:
        when = dt.date.fromisoformat(str(record.get("seen_on") or dt.date.today().isoformat()))
        return _to_item({"pk": f"BANK#{key}", "sk": "ENTRY", "type": "bank_entry", **record,
                         "expires_at": _expires(when)})

    def claim_entry(self, key: str, record: Mapping[str, Any]) -> bool:
        return _unless_condition_fails(
            self._client.put_item, TableName=self._table, Item=self._item(key, record),
            ConditionExpression="attribute_not_exists(pk) OR #s = :unmatched",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues=_to_item({":unmatched": "unmatched"}))

    def put_unmatched(self, key: str, record: Mapping[str, Any]) -> bool:
        return _unless_condition_fails(
            self._client.put_item, TableName=self._table, Item=self._item(key, record),
            ConditionExpression="attribute_not_exists(pk)")

    def set_entry(self, key: str, fields: Mapping[str, Any]) -> None:
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        values = {f":v{i}": v for i, v in enumerate(fields.values())}
        expr = ", ".join(f"{n} = {v}" for n, v in zip(names, values, strict=True))
        self._client.update_item(TableName=self._table, Key=_to_item({"pk": f"BANK#{key}", "sk": "ENTRY"}),
                                 UpdateExpression=f"SET {expr}", ExpressionAttributeNames=names,
                                 ExpressionAttributeValues=_to_item(values))
