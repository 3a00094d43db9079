"""The approval page behind API Gateway: GET /approvals/{id}?sig=... shows the case, only POST decides.

Routed by Powertools' ``APIGatewayRestResolver``, as the REST API is. 403 forged link, 404 unknown request
or route, 405 another method, 410 expired or already used; never an exception text in the page, never the
task token in a page or a log (nothing of the event is logged).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from relance import http_pages, observability
from relance.escalation import approvals, page
from relance.escalation.services import APPROVAL_SECRET_ARN, Services, env

logger, tracer, metrics = observability.powertools()
app = APIGatewayRestResolver()

HEADERS = http_pages.html_headers(images=False)
ROUTE = "/approvals/<approval_id>"
OTHER_METHODS = ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _reply(status: int, html: str) -> Response[str]:
    return Response(status_code=status, body=html, headers=dict(HEADERS))


@app.get(ROUTE)
def show(approval_id: str) -> Response[str]:
    return _answer("GET", approval_id)


@app.post(ROUTE)
def decide(approval_id: str) -> Response[str]:
    return _answer("POST", approval_id)


@app.route(ROUTE, method=OTHER_METHODS)
def other_method(approval_id: str) -> Response[str]:
    return _reply(405, page.message_page(405))


@app.not_found
def not_found(_exc: Exception) -> Response[str]:
    return _reply(404, page.message_page(404))


@app.exception_handler(Exception)
def failed(_exc: Exception) -> Response[str]:
    logger.exception("approval page failed")   # the traceback goes to the logs, never to the page
    return _reply(500, page.message_page(500))


def _answer(method: str, approval_id: str) -> Response[str]:
    event: dict[str, Any] = app.current_event.raw_event
    services = Services.from_env()
    now = http_pages.request_time(event)
    form = dict(http_pages.form_pairs(event, 10_000)) if method == "POST" else {}
    sig = form.get("sig", "") if method == "POST" else app.current_event.get_query_string_value("sig", "") or ""
    if method == "POST" and http_pages.cross_site(event):
        return _reply(403, page.message_page(403))
    check = approvals.check_link(services, env(APPROVAL_SECRET_ARN), approval_id, sig, now)
    metrics.add_metric(name=f"ApprovalLink{check.status}", unit=MetricUnit.Count, value=1)
    if check.status != 200 or check.approval is None:
        logger.info("approval link refused", extra={"status": check.status, "reason": check.reason,
                                                    "method": method})
        return _reply(check.status, page.message_page(check.status))
    approval = check.approval
    key = approvals.signing_key(env(APPROVAL_SECRET_ARN), services.secrets)
    case_id = str(approval["case_id"])
    if method == "GET":
        return _case_page(services, approval, sig, key, now, 200)
    decision = form.get("decision", "")
    if decision not in ("approve", "reject"):
        return _reply(400, page.message_page(400))
    # The deliberate act: the one-time value of a GET of this page, and the code typed by a person.
    if not approvals.check_form_token(key, approval_id, form.get("form", ""), now):
        logger.info("approval POST without a valid form value (scanner or stale page)")
        return _reply(403, page.message_page("stale"))
    if not approvals.code_matches(case_id, form.get("confirm", "")):
        logger.info("approval POST without the confirmation code")
        return _case_page(services, approval, sig, key, now, 400,
                          "Recopiez le code de confirmation affiché avant de choisir.")
    if not approvals.decide(services, approval, decision, form.get("reason", "").strip(), now):
        return _reply(410, page.message_page(410))
    logger.info("approval decided", extra={"case_id": approval["case_id"], "decision": decision})
    metrics.add_metric(name="ApprovalDecisions", unit=MetricUnit.Count, value=1)
    return _reply(200, page.message_page(decision))


def _case_page(services: Services, approval: dict[str, Any], sig: str, key: bytes, now: float, status: int,
               error: str = "") -> Response[str]:
    case_id = str(approval["case_id"])
    case_item = services.store.get_case(case_id)
    if case_item is None:
        return _reply(404, page.message_page(404))
    token = approvals.form_token(key, str(approval.get("approval_id") or ""), now)
    return _reply(status, page.case_page(case_item, sig, str(approval["expires"]), token,
                                         approvals.confirmation_code(case_id), error))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)   # nothing personal in X-Ray
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    except Exception:   # an event the resolver cannot read (no path): the same page as a failed route
        logger.exception("approval page failed")
        return http_pages.html_reply(500, page.message_page(500), HEADERS)
