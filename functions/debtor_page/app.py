"""The debtor's page behind API Gateway: GET /p/{id}?sig=... shows what is owed, only POST answers.

A forged, expired or unknown link gets the same 403 page with no data; nothing of the request (form,
signature) is logged or traced, only the outcome.
"""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from relance import http_pages, observability
from relance.adapters.aws.debtor_links import DynamoLinkStore
from relance.debtor import page
from relance.debtor.service import Access, DebtorPage
from relance.errors import NotFoundError
from relance.escalation.approvals import signing_key
from relance.escalation.services import APPROVAL_SECRET_ARN, Services, env

logger, tracer, metrics = observability.powertools()

HEADERS = http_pages.html_headers(images=True)


def _reply(status: int, html: str) -> dict[str, Any]:
    return http_pages.html_reply(status, html, HEADERS)


def _pdf_reply(content: bytes, invoice_id: str) -> dict[str, Any]:
    name = "".join(c for c in invoice_id if c.isalnum() or c in "-_.")[:60] or "facture"
    headers = {**HEADERS, "Content-Type": "application/pdf",
               "Content-Disposition": f'inline; filename="facture-{name}.pdf"'}
    return {"statusCode": 200, "headers": headers, "body": base64.b64encode(content).decode(),
            "isBase64Encoded": True}


def _page(services: Services) -> DebtorPage:
    key = signing_key(env(APPROVAL_SECRET_ARN), services.secrets)
    bucket = services.settings.letters_bucket

    def read(key_name: str) -> bytes | None:
        if not bucket or not key_name.startswith("invoices/"):
            return None
        return services.files.get(key_name)

    return DebtorPage(services, DynamoLinkStore(services.store), key, read)


def handle(event: dict[str, Any]) -> dict[str, Any]:
    method = str(event.get("httpMethod", "")).upper()
    link_id = str((event.get("pathParameters") or {}).get("id", ""))
    if method not in ("GET", "POST"):
        return _reply(405, page.refused_page(405))
    now = http_pages.request_time(event)
    query = event.get("queryStringParameters") or {}
    pairs = http_pages.form_pairs(event, 20_000)[:200] if method == "POST" else []
    form = dict(pairs)
    sig = form.get("sig", "") if method == "POST" else str(query.get("sig", ""))
    if method == "POST" and http_pages.cross_site(event):
        return _reply(403, page.refused_page(403))
    services = Services.from_env()
    debtor = _page(services)
    access: Access = debtor.check(link_id, sig, now)
    metrics.add_metric(name=f"DebtorLink{access.status}", unit=MetricUnit.Count, value=1)
    if access.status != 200:
        logger.info("debtor link refused", extra={"reason": access.reason, "method": method})
        return _reply(403, page.refused_page(403))
    if method == "GET":
        if query.get("pdf"):
            status, content = debtor.pdf(access, str(query["pdf"]))
            return _pdf_reply(content, str(query["pdf"])) if content else _reply(status, page.refused_page(404))
        return _reply(200, debtor.show(access, sig, now).html)
    invoices = [v for k, v in pairs if k == "invoice"]
    reply = debtor.answer(access, form, invoices, now)
    if reply.log:
        logger.info("debtor answered", extra={"answer": reply.log.get("answer"),
                                              "outcome": reply.log.get("outcome"),
                                              "invoices": len(reply.log.get("invoices", []))})
        metrics.add_metric(name="DebtorAnswers", unit=MetricUnit.Count, value=1)
    return _reply(reply.status, reply.html)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)   # nothing personal in X-Ray
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return handle(event)
    except NotFoundError:                        # the customer was erased (GDPR) since the link was sent
        return _reply(403, page.refused_page(403))
    except Exception:
        logger.exception("debtor page failed")   # the traceback goes to the logs, never to the page
        return _reply(500, page.refused_page(500))
