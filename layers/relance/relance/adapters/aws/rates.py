"""The rates stored in the deployed table: ECB reference rate per semester, legal rate per semester,
and the "rate missing" alerts already raised (one per semester and rate).

Items (single table, see relance/store.py): ``RATES`` / ``ECB#<semester>``, ``RATES`` / ``LEGAL#<semester>``,
``RATES`` / ``ALERT#<semester>#<what>``. Rates are kept as percent strings ("2.40").
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from relance.law.rates import LegalRate, Semester, StoredEcbRate

PK = "RATES"
CACHE_SECONDS = 60.0


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _pct(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f")


class DynamoRateStore:
    """RateStore and RateAlerts on the single table; ``load`` is cached a minute in a warm process."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table_name = table_name
        self._cache: tuple[float, tuple[list[StoredEcbRate], list[LegalRate]]] | None = None

    def load(self) -> tuple[list[StoredEcbRate], list[LegalRate]]:
        if self._cache and time.monotonic() - self._cache[0] < CACHE_SECONDS:
            return self._cache[1]
        ecb: list[StoredEcbRate] = []
        legal: list[LegalRate] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name, "KeyConditionExpression": "pk = :pk",
                                  "ExpressionAttributeValues": {":pk": _s(PK)}}
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                sk = item["sk"]["S"]
                kind, _, sem = sk.partition("#")
                if kind == "ECB":
                    ecb.append(StoredEcbRate(Semester.parse(sem), Decimal(item["rate"]["S"]) / 100,
                                             item["source"]["S"], item["read"]["S"]))
                elif kind == "LEGAL":
                    legal.append(LegalRate(Semester.parse(sem), Decimal(item["individual"]["S"]) / 100,
                                           Decimal(item["professional"]["S"]) / 100, item["source"]["S"],
                                           item["read"]["S"]))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        self._cache = (time.monotonic(), (ecb, legal))
        return ecb, legal

    def put_ecb(self, rate: StoredEcbRate) -> None:
        self.client.put_item(TableName=self.table_name, Item={
            "pk": _s(PK), "sk": _s(f"ECB#{rate.semester}"), "rate": _s(_pct(rate.rate)),
            "source": _s(rate.source), "read": _s(rate.read)})
        self._cache = None

    def put_legal(self, rate: LegalRate) -> None:
        self.client.put_item(TableName=self.table_name, Item={
            "pk": _s(PK), "sk": _s(f"LEGAL#{rate.semester}"), "individual": _s(_pct(rate.individual)),
            "professional": _s(_pct(rate.professional)), "source": _s(rate.source), "read": _s(rate.read)})
        self._cache = None

    def claim_alert(self, semester: Semester, what: str) -> bool:
        """True the first time the alert of ``what`` (ecb | legal) is raised for ``semester``."""
        try:
            self.client.put_item(TableName=self.table_name,
                                 Item={"pk": _s(PK), "sk": _s(f"ALERT#{semester}#{what}")},
                                 ConditionExpression="attribute_not_exists(pk)")
        except Exception as exc:  # botocore ClientError, without importing botocore here
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False
            raise
        return True
