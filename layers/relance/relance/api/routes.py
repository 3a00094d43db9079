"""The REST API as a Powertools resolver: routes, validation, JSON errors, the identity check.

``build_app(service_factory)`` returns the resolver; ``handle(app, event, context)`` is what the Lambda
handler calls. Errors are always ``{"error": "...", "field": "..."|null}`` with 400 (unreadable request),
403 (no caller identity), 404 (unknown record or route), 409 (state conflict) or 422 (a field is wrong);
never a traceback or an exception's text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseContentModel
from pydantic import AfterValidator, WithJsonSchema

from relance.api.models import (
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    DisputeIn,
    ErrorOut,
    HistoryOut,
    InvoiceIn,
    InvoiceOut,
    InvoicePatch,
    LetterEventIn,
    LifecycleIn,
    LifecycleOut,
    OptionalReasonIn,
    OutcomeIn,
    OutcomeOut,
    PaymentIn,
    PaymentOut,
    PlanIn,
    PromiseIn,
    ReasonIn,
)
from relance.api.service import ApiError, ApiService
from relance.models import ID_PATTERN as _ID

logger = Logger(child=True)

TITLE = "relance API"
VERSION = "1.0.0"
DESCRIPTION = ("Invoices, payments, disputes, promises, payment plans and e-invoicing lifecycle statuses "
               "for the dunning of unpaid invoices. Authentication: AWS Signature V4 (IAM). Money is a "
               "decimal string (\"1800.00\"); errors are {\"error\", \"field\"}.")



def _decoded_id(value: str) -> str:
    """API Gateway (REST) gives the resolver the path still percent-encoded: ``F%2F2026%2F7`` is the id
    ``F/2026/7``. Decoded once, then held to the record id rule (no ``..``, no empty segment)."""
    decoded = unquote(value, errors="strict")
    if not _ID.fullmatch(decoded) or "//" in decoded or ".." in decoded:
        raise ValueError(f"{decoded!r} is not a valid id (letters, digits, . _ - /, at most 64)")
    return decoded


# Ids may hold "/" (French invoice numbers such as F/2026/7): clients send it as %2F.
_ID_PATH = r"^[A-Za-z0-9][A-Za-z0-9._\-%/]{0,191}$"
_ID_DOC = "Record id, percent-encoded: F/2026/7 is sent as F%2F2026%2F7"
IdPath = Annotated[str, Path(pattern=_ID_PATH, max_length=192, description=_ID_DOC),
                   AfterValidator(_decoded_id),
                   WithJsonSchema({"type": "string", "pattern": _ID_PATH, "maxLength": 192, "description": _ID_DOC})]


def _error(status: int, message: str, field: str | None = None) -> Response[Any]:
    return Response(status_code=status, content_type="application/json",
                    body=json.dumps({"error": message, "field": field}, ensure_ascii=False))


def _responses(*codes: int) -> dict[int, OpenAPIResponse]:
    described = {400: "Unreadable request", 403: "No caller identity", 404: "Unknown invoice or customer",
                 409: "Conflicts with the record's state", 422: "A field is invalid"}
    return {code: OpenAPIResponse(description=described[code],
                                  content={"application/json": OpenAPIResponseContentModel(model=ErrorOut)})
            for code in codes}


_IDEMPOTENCY = ("A retry with the same key (or, without the header, the same reference) books nothing and "
                "replays the first reply (200, replayed: true); the key with another body is refused (422).")
_READ = _responses(403, 404)
_WRITE = _responses(400, 403, 404, 409, 422)


def describe_validation(exc: RequestValidationError) -> tuple[int, str, str | None]:
    """Powertools/pydantic validation errors -> (status, message, field) for the first problem."""
    errors = exc.errors()
    if not errors:
        return 422, "invalid request", None
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    kind = first.get("type", "")
    if kind == "json_invalid":
        return 400, "the request body is not valid JSON", None
    if loc == ["body"] and kind == "missing":
        return 400, "the request body is missing", None
    if loc == ["body"]:
        return 400, "the request body must be a JSON object", None
    where = loc[1:] if loc and loc[0] in ("body", "path", "query") else loc
    field = ".".join(where) or None
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "missing":
        message = "missing"
    return 422, message, field


def build_app(service: Callable[[], ApiService]) -> APIGatewayRestResolver:
    """The resolver with every route; ``service()`` is called per request (settings read at call time)."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[Any]:
        status, message, field = describe_validation(exc)
        return _error(status, message, field)

    @app.exception_handler(ApiError)
    def _api_error(exc: ApiError) -> Response[Any]:
        return _error(exc.status, exc.message, exc.field)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        logger.exception("unexpected error")
        return _error(500, "internal error; the request was logged", None)

    @app.not_found
    def _not_found(exc: Exception) -> Response[Any]:
        return _error(404, "no such route", None)

    # ---- customers
    @app.post("/customers", summary="Create a customer", responses=_WRITE)
    def create_customer(body: Annotated[CustomerIn, Body()]) -> Response[CustomerOut]:
        return Response(201, "application/json", service().create_customer(body))

    @app.get("/customers/<customer_id>", summary="Read a customer", responses=_READ)
    def get_customer(customer_id: IdPath) -> CustomerOut:
        return service().get_customer(customer_id)

    @app.patch("/customers/<customer_id>", summary="Change fields of a customer", responses=_WRITE)
    def update_customer(customer_id: IdPath, body: Annotated[CustomerPatch, Body()]) -> CustomerOut:
        return service().update_customer(customer_id, body)

    # ---- invoices
    @app.post("/invoices", summary="Create an invoice (TTC, EUR)", responses=_WRITE)
    def create_invoice(body: Annotated[InvoiceIn, Body()]) -> Response[InvoiceOut]:
        return Response(201, "application/json", service().create_invoice(body))

    @app.get("/invoices/<invoice_id>", summary="Read an invoice, its balance and its state", responses=_READ)
    def get_invoice(invoice_id: IdPath) -> InvoiceOut:
        return service().get_invoice(invoice_id)

    @app.patch("/invoices/<invoice_id>", summary="Correct an open invoice", responses=_WRITE)
    def update_invoice(invoice_id: IdPath, body: Annotated[InvoicePatch, Body()]) -> InvoiceOut:
        return service().update_invoice(invoice_id, body)

    @app.get("/invoices/<invoice_id>/history", summary="Audit history of an invoice", responses=_READ)
    def history(invoice_id: IdPath) -> HistoryOut:
        return service().history(invoice_id)

    @app.post("/invoices/<invoice_id>/payments", responses=_WRITE,
              summary="Record a payment (partial allowed; an overpayment is kept as a credit)")
    def add_payment(invoice_id: IdPath, body: Annotated[PaymentIn, Body()],
                    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255,
                                                                  description=_IDEMPOTENCY)] = None
                    ) -> Response[PaymentOut]:
        reply = service().add_payment(invoice_id, body, idempotency_key)
        return Response(200 if reply.replayed else 201, "application/json", reply)

    @app.post("/invoices/<invoice_id>/dispute", summary="Open a dispute (pauses the reminders)",
              responses=_WRITE)
    def open_dispute(invoice_id: IdPath, body: Annotated[DisputeIn, Body()]) -> InvoiceOut:
        return service().open_dispute(invoice_id, body)

    @app.delete("/invoices/<invoice_id>/dispute", summary="Resolve the dispute (reminders resume)",
                responses=_WRITE)
    def resolve_dispute(invoice_id: IdPath) -> InvoiceOut:
        return service().resolve_dispute(invoice_id)

    @app.post("/invoices/<invoice_id>/promise", summary="Promise to pay by a date (pauses until then)",
              responses=_WRITE)
    def add_promise(invoice_id: IdPath, body: Annotated[PromiseIn, Body()]) -> InvoiceOut:
        return service().add_promise(invoice_id, body)

    @app.put("/invoices/<invoice_id>/plan", responses=_WRITE,
             summary="Set a payment plan; the instalments must add up to the balance")
    def set_plan(invoice_id: IdPath, body: Annotated[PlanIn, Body()]) -> InvoiceOut:
        return service().set_plan(invoice_id, body)

    @app.post("/invoices/<invoice_id>/write-off", summary="Write the invoice off (stops it)",
              responses=_WRITE)
    def write_off(invoice_id: IdPath, body: Annotated[ReasonIn, Body()]) -> InvoiceOut:
        return service().write_off(invoice_id, body)

    @app.post("/invoices/<invoice_id>/pause", summary="Pause the reminders by hand", responses=_WRITE)
    def pause(invoice_id: IdPath, body: Annotated[OptionalReasonIn, Body()]) -> InvoiceOut:
        return service().pause(invoice_id, body)

    @app.post("/invoices/<invoice_id>/resume", summary="Resume after a pause by hand", responses=_WRITE)
    def resume(invoice_id: IdPath) -> InvoiceOut:
        return service().resume(invoice_id)

    @app.post("/invoices/<invoice_id>/letters", responses=_WRITE,
              summary="Record a registered letter posted (tracking number) or received (avis de réception)")
    def letter_event(invoice_id: IdPath, body: Annotated[LetterEventIn, Body()]) -> HistoryOut:
        return service().letter_event(invoice_id, body)

    @app.post("/invoices/<invoice_id>/lifecycle", responses=_WRITE,
              summary="Apply an e-invoicing lifecycle status (CDAR 200-213)")
    def apply_lifecycle(invoice_id: IdPath, body: Annotated[LifecycleIn, Body()]) -> LifecycleOut:
        return service().lifecycle(invoice_id, body)

    # ---- escalation cases
    @app.post("/cases/<case_id>/outcome", responses=_WRITE,
              summary="Report the collection partner's outcome on a handed-off case")
    def report_outcome(case_id: IdPath, body: Annotated[OutcomeIn, Body()]) -> OutcomeOut:
        return service().report_outcome(case_id, body)

    return app


def caller_identity(event: Mapping[str, Any]) -> str | None:
    """Who signed the request, as API Gateway's IAM authorizer reports it; None when nobody did.

    With ``AWS_IAM`` auth API Gateway rejects unsigned requests before the function runs; this is the
    second lock (a misconfigured method, a direct invoke with a forged event without identity).
    """
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        return None
    identity = context.get("identity")
    if not isinstance(identity, Mapping):
        return None
    for key in ("userArn", "caller"):
        value = identity.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


MAX_JSON_DEPTH = 8        # the deepest body of the API (a plan's instalments) is 3 levels deep


def _refusal(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "isBase64Encoded": False,
            "body": json.dumps({"error": message, "field": None})}


def _json_depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:                                     # breadth first: no recursion on hostile input
        depth += 1
        level = [child for item in level if isinstance(item, dict | list)
                 for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, dict | list)]
    return depth


def body_problem(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """415 for a body that is not JSON by its Content-Type, 400 for JSON nested beyond MAX_JSON_DEPTH
    (Python's parser would raise RecursionError, a 500), else None."""
    body = event.get("body")
    if not isinstance(body, str) or not body.strip():
        return None
    headers = event.get("headers") or {}
    content_type = next((str(v) for k, v in headers.items() if str(k).lower() == "content-type"), "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media and media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        return _refusal(415, f"the request body must be application/json, not {media[:60]}")
    # Cheap bound before parsing: more opening brackets than any body needs is refused unparsed.
    if body.count("[") + body.count("{") > 10_000:
        return _refusal(400, "the request body is nested too deeply or too large")
    try:
        parsed = json.loads(body)
    except RecursionError:
        return _refusal(400, "the request body is nested too deeply")
    except ValueError:
        return None                                  # the resolver answers "not valid JSON"
    if _json_depth(parsed) > MAX_JSON_DEPTH:
        return _refusal(400, f"the request body is nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    return None


def handle(app: APIGatewayRestResolver, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Refuse a request without a caller identity (403), a body that is not JSON (415) or nested too
    deeply (400), else route it."""
    if caller_identity(event) is None:
        return _refusal(403, "request without a caller identity (AWS_IAM signature)")
    problem = body_problem(event)
    if problem is not None:
        return problem
    return app.resolve(dict(event), context)


def openapi_json(app: APIGatewayRestResolver) -> str:
    """The OpenAPI document of the API, as committed in functions/api/openapi.json."""
    document = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION))
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
