"""What the outside world hands relance, built for tests and the simulator (never product code).

- :func:`put_raw_invoice_item`: an invoice item written as a legacy import or a broken writer leaves it,
  bypassing every validation, so that the dispatcher's quarantine can be exercised;
- :func:`api_event`: the API Gateway (REST, proxy) event a person's browser produces when following an
  approval link;
- :func:`person_form`: what that person then submits from the approval page (the code typed by hand).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import urllib.parse
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from boto3.dynamodb.types import TypeSerializer

from relance.store import Store

PARIS = ZoneInfo("Europe/Paris")
_serializer = TypeSerializer()


def put_raw_invoice_item(store: Store, item: Mapping[str, Any]) -> None:
    """Write ``item`` into the store's table as given (``None`` values left out, as the store does).

    Items in the former layout (``INV#<invoice>``/``META``, ``CUST#<customer>``/``OPEN#<invoice>``) are written
    in the current one (the state in the customer's partition, an owner pointer), as a legacy import would.
    """
    from relance.adapters.aws.dynamodb import invoice_items

    def put(one: Mapping[str, Any]) -> None:
        store.client.put_item(TableName=store.table,
                              Item={k: _serializer.serialize(v) for k, v in one.items() if v is not None})

    if str(item.get("sk")) == "META" and str(item.get("pk", "")).startswith("INV#"):
        fields = {k: v for k, v in item.items() if k not in ("pk", "sk")}
        data = dict(fields.get("data") or {})
        data.setdefault("id", str(item["pk"]).removeprefix("INV#"))
        fields["data"] = data
        for one in invoice_items(fields):
            put(one)
        return
    if str(item.get("sk", "")).startswith("OPEN#"):
        return          # open invoices need no pointer any more: their state is in the partition
    put(item)

def api_event(method: str, link: str, form: dict[str, str] | None = None, *,
              when: dt.datetime | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event for the approval ``link``; ``when`` becomes the request time."""
    url = urllib.parse.urlsplit(link)
    query = dict(urllib.parse.parse_qsl(url.query))
    parts = url.path.rstrip("/").split("/")
    approval_id = parts[-1]
    moment = when or dt.datetime.now(PARIS)
    body = urllib.parse.urlencode(form) if form is not None else None
    all_headers = {"Host": url.netloc, "User-Agent": "relance-test",
                   **({"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}),
                   **(headers or {})}
    return {
        "resource": "/approvals/{id}", "path": f"/approvals/{approval_id}", "httpMethod": method.upper(),
        "headers": all_headers, "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": {"id": approval_id}, "stageVariables": None,
        "requestContext": {"resourcePath": "/approvals/{id}", "httpMethod": method.upper(),
                           "path": url.path, "stage": "Prod", "requestId": secrets.token_hex(8),
                           "requestTimeEpoch": int(moment.timestamp() * 1000)},
        "body": body, "isBase64Encoded": False,
    }


def response_headers(reply: dict[str, Any]) -> dict[str, str]:
    """The headers a browser gets from a Lambda proxy reply: API Gateway merges ``headers`` and
    ``multiValueHeaders`` (Powertools' REST resolver answers with the latter); one value per name here."""
    merged = {str(k): str(v) for k, v in (reply.get("headers") or {}).items()}
    for name, values in (reply.get("multiValueHeaders") or {}).items():
        if values:
            merged[str(name)] = ", ".join(str(v) for v in values)
    return merged


def person_form(page_html: str, decision: str, reason: str = "") -> dict[str, str]:
    """What a person sends from the approval page: its hidden fields, the decision, the code typed."""
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page_html))
    code = re.search(r'<strong class="code">([A-Z0-9]{1,4})</strong>', page_html)
    return {**hidden, "decision": decision, "reason": reason, "confirm": code.group(1) if code else ""}
