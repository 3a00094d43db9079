"""The catalogue of bad input: one row per kind, where it enters, the input, and the clear error expected.

tests/badinput/test_catalogue.py proves each row (the error, never a traceback, the others go on, nothing
lost); docs/hardening.md's table is generated from this list (``python -m`` not needed: see
``markdown_table``; a test keeps the doc in step).

Entries:

- ``api``: ``(method, path, body[, headers])`` sent to the REST API handler (body ``str`` = raw body) -> 4xx
  JSON.
- ``csv``: the bytes of a CSV file given to ``relance import FILE`` (a good row ``{good}`` is added to
  row-level cases) -> exit 2, one line; the good row is not imported either (all or nothing).
- ``cli``: argv of another ``relance`` command -> exit 2, one line.
- ``facturx``: a PDF dropped under ``imports/`` (built by ``facturx_input``) -> import report, ``ok: false``.
- ``s3key``: an object key dropped in the bucket -> refused or reported, nothing read.
- ``s3event``: the event ImportFunction receives, as ``(action, path[, value])`` applied to
  events/s3-import.json (``del``: remove the field; ``set``: replace it) or ``("whole", event)`` -> refused
  with the field named, nothing read; the next drop is imported.
- ``schedule``: the scheduled event of the daily run -> ``{"status": "rejected", "reason"}``.
- ``sqs``: the body of a work message -> logged, dropped (not retried), the batch goes on.
- ``stored``: a customer or invoice as a broken import or legacy data left it in the table -> the daily run
  quarantines it with a reason, it stays stored, the others go out.
- ``policy``: a policy file given to ``relance policy validate`` -> ``FILE:LINE: message``, exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CSV_HEADER = "client;nom;type;facture;date_facture;echeance;montant_ttc"
GOOD_ROW = "G-{n};Client Correct SARL;entreprise;OK-{n};17/03/2026;16/04/2026;100,00"

ENTRIES = {
    "api": "REST API (POST/PATCH bodies, paths)",
    "csv": "CSV import (`relance import`, S3 drop)",
    "cli": "operators' CLI",
    "facturx": "Factur-X PDF (S3 drop `imports/`)",
    "s3key": "S3 object key (import drop)",
    "s3event": "S3 `Object Created` event (ImportFunction)",
    "schedule": "scheduled event (daily run)",
    "sqs": "SQS work message (dispatch)",
    "stored": "stored record (daily run)",
    "policy": "policy file (`relance policy validate`)",
}
OUTCOMES = {
    "api": "HTTP 4xx `{error, field}`",
    "csv": "exit 2, one line `FILE:LINE: reason`; nothing imported (the file is all or nothing)",
    "cli": "exit 2, one line",
    "facturx": "report `ok: false` with the reason",
    "s3key": "refused, nothing read",
    "s3event": "refused with the field, nothing read",
    "schedule": "`status: rejected` with the reason",
    "sqs": "logged and dropped; the batch goes on",
    "stored": "quarantine item with the reason; out of the due index; stays stored",
    "policy": "`FILE:LINE: message`, exit 2",
}


@dataclass(frozen=True)
class Case:
    id: str
    entry: str
    what: str
    input: Any
    error: str
    row_level: bool = True      # csv: the file has a good row too, which is not imported (all or nothing)

    def __str__(self) -> str:
        return self.id


def _csv(row: str, *, header: str = CSV_HEADER) -> str:
    return f"{header}\n{row}\n{GOOD_ROW}\n"


def _customer(**fields: Any) -> dict[str, Any]:
    return {"id": "NEW1", "name": "Client Exemple", "kind": "b2b", "email": "compta@client.example", **fields}


def _invoice(**fields: Any) -> dict[str, Any]:
    return {"id": "NEWINV", "customer": "C1", "issued": "2026-03-17", "due": "2026-04-16", "amount": "100.00",
            **fields}


def _stored_invoice(**data: Any) -> dict[str, Any]:
    """``data`` overrides the invoice fields; ``None`` removes one; ``_meta`` overrides META attributes."""
    meta = data.pop("_meta", {})
    fields = {"issued": "2026-03-17", "due": "2026-04-16", "amount": "100.00", **data}
    return {"invoice": {k: v for k, v in fields.items() if v is not None}, "meta": meta}


CASES: list[Case] = [
    # ---- amounts ---------------------------------------------------------------------------------
    Case("api-amount-float", "api", "amount as a JSON number (float)",
         ("POST", "/invoices/A1/payments", {"amount": 12.5}), "not a JSON number"),
    Case("api-amount-integer", "api", "amount as a JSON integer",
         ("POST", "/invoices/A1/payments", {"amount": 12}), "not a JSON number"),
    Case("api-amount-fr-format", "api", "French amount `1 200,00` in JSON",
         ("POST", "/invoices/A1/payments", {"amount": "1 200,00"}), "is not a decimal with a dot"),
    Case("api-amount-us-format", "api", "English thousands `1,200.00` in JSON",
         ("POST", "/invoices/A1/payments", {"amount": "1,200.00"}), "is not a decimal with a dot"),
    Case("api-amount-negative", "api", "negative amount",
         ("POST", "/invoices/A1/payments", {"amount": "-10.00"}), "is negative"),
    Case("api-amount-zero", "api", "zero payment", ("POST", "/invoices/A1/payments", {"amount": "0.00"}),
         "amount is zero"),
    Case("api-amount-absurd", "api", "absurd amount (10^12)",
         ("POST", "/invoices", _invoice(amount="1000000000000.00")), "is larger than"),
    Case("api-amount-three-decimals", "api", "amount with three decimals",
         ("POST", "/invoices/A1/payments", {"amount": "10.001"}), "at most two places"),
    Case("api-amount-nan", "api", "amount `NaN`", ("POST", "/invoices/A1/payments", {"amount": "NaN"}),
         "is not a decimal with a dot"),
    Case("csv-amount-us-thousands", "csv", "`1,200.00` (comma and dot)",
         _csv("C9;Client;entreprise;X1;17/03/2026;16/04/2026;1,200.00"), "ambiguous amount"),
    Case("csv-amount-three-digits", "csv", "`1.200` (thousands or decimals?)",
         _csv("C9;Client;entreprise;X2;17/03/2026;16/04/2026;1.200"), "ambiguous amount"),
    Case("csv-amount-negative", "csv", "negative amount", _csv("C9;Client;entreprise;X3;17/03/2026;16/04/2026;-50,00"),
         "is negative"),
    Case("csv-amount-absurd", "csv", "absurd amount",
         _csv("C9;Client;entreprise;X4;17/03/2026;16/04/2026;999999999999,00"), "is larger than"),
    Case("csv-amount-words", "csv", "amount in words",
         _csv("C9;Client;entreprise;X5;17/03/2026;16/04/2026;mille euros"), "is not an amount"),
    Case("csv-amount-bad-spaces", "csv", "spaces not between groups of three (`12 00,00`)",
         _csv("C9;Client;entreprise;X6;17/03/2026;16/04/2026;12 00,00"), "spaces may only separate groups"),
    Case("api-amount-fullwidth", "api", "amount in full-width digits (`１８００.００`)",
         ("POST", "/invoices/A1/payments", {"amount": "１８００.００"}), "ASCII digits"),
    Case("api-amount-arabic-indic", "api", "amount in Arabic-Indic digits (`١٨٠٠`)",
         ("POST", "/invoices/A1/payments", {"amount": "١٨٠٠"}), "ASCII digits"),
    Case("csv-amount-fullwidth", "csv", "amount in full-width digits",
         _csv("C9;Client;entreprise;X15;17/03/2026;16/04/2026;１８００,００"), "ASCII digits"),
    # ---- dates -----------------------------------------------------------------------------------
    Case("api-date-year-9999", "api", "year 9999", ("POST", "/invoices", _invoice(issued="9999-12-01",
                                                                                 due="9999-12-31")),
         "between 2000 and 2100"),
    Case("api-date-year-0001", "api", "year 0001", ("POST", "/invoices", _invoice(issued="0001-01-01",
                                                                                 due="0001-02-01")),
         "between 2000 and 2100"),
    Case("api-date-year-1900", "api", "year 1900", ("POST", "/invoices", _invoice(issued="1900-01-01",
                                                                                 due="1900-02-01")),
         "between 2000 and 2100"),
    Case("api-payment-date-far", "api", "payment dated 2150",
         ("POST", "/invoices/A1/payments", {"amount": "10.00", "date": "2150-01-01"}), "between 2000 and 2100"),
    Case("csv-date-year-1900", "csv", "year 1900 in a CSV date",
         _csv("C9;Client;entreprise;X16;17/03/1900;16/04/1900;100,00"), "between 2000 and 2100"),
    Case("csv-date-fullwidth", "csv", "date in full-width digits",
         _csv("C9;Client;entreprise;X17;１７/０３/２０２６;16/04/2026;100,00"), "is not a date"),
    Case("api-date-non-iso", "api", "French date in JSON (`16/04/2026`)",
         ("POST", "/invoices", _invoice(due="16/04/2026")), "is not an ISO date"),
    Case("api-date-missing", "api", "missing due date",
         ("POST", "/invoices", {k: v for k, v in _invoice().items() if k != "due"}), "missing"),
    Case("api-date-impossible", "api", "30 February", ("POST", "/invoices", _invoice(due="2026-02-30")),
         "not a real calendar date"),
    Case("api-date-datetime", "api", "date and time instead of a date",
         ("POST", "/invoices", _invoice(due="2026-04-16T10:00:00")), "is not an ISO date"),
    Case("api-due-before-issue", "api", "due before issue", ("POST", "/invoices", _invoice(due="2026-03-01")),
         "is before the issue date"),
    Case("api-due-years-later", "api", "due more than a year after issue",
         ("POST", "/invoices", _invoice(due="2029-03-17")), "more than a year after"),
    Case("api-promise-past", "api", "promise to pay in the past",
         ("POST", "/invoices/A1/promise", {"until": "2020-01-01"}), "in the past"),
    Case("csv-date-us-order", "csv", "US date order (`04/16/2026`)",
         _csv("C9;Client;entreprise;X7;03/17/2026;04/16/2026;100,00"), "not a real calendar date"),
    Case("csv-date-words", "csv", "date in words", _csv("C9;Client;entreprise;X8;hier;demain;100,00"),
         "is not a date"),
    Case("csv-due-before-issue", "csv", "due before issue",
         _csv("C9;Client;entreprise;X9;16/04/2026;17/03/2026;100,00"), "is before the issue date"),
    Case("cli-date", "cli", "non-ISO `--date`", ("payment", "add", "A1", "10.00", "--date", "27/04/2026"),
         "is not a date"),
    # ---- types, fields, ids ------------------------------------------------------------------------
    Case("api-wrong-type-name", "api", "name as a number", ("POST", "/customers", _customer(name=42)),
         "valid string"),
    Case("api-wrong-kind", "api", "unknown customer kind", ("POST", "/customers", _customer(kind="martian")),
         "'b2b', 'b2c' or 'public'"),
    Case("api-unknown-field", "api", "unknown field (typo)",
         ("POST", "/invoices/A1/payments", {"amount": "10.00", "dat": "2026-04-20"}), "unknown field"),
    Case("api-unknown-currency", "api", "currency other than EUR",
         ("POST", "/invoices", _invoice(currency="USD")), "unknown field"),
    Case("api-unknown-policy", "api", "unknown policy", ("POST", "/customers", _customer(policy="inexistante")),
         "is not deployed"),
    Case("api-unknown-customer", "api", "invoice of an unknown customer",
         ("POST", "/invoices", _invoice(customer="NOBODY")), "does not exist"),
    Case("api-duplicate-invoice", "api", "duplicate invoice id",
         ("POST", "/invoices", _invoice(id="A1")), "already exists"),
    Case("api-id-path-trick", "api", "id with path tricks", ("POST", "/customers", _customer(id="../../etc")),
         "is not a valid id"),
    Case("api-id-in-path", "api", "id with a quote in the URL path", ("GET", "/invoices/A1'OR'1", None),
         "is not a valid id"),
    Case("api-body-not-json", "api", "body not JSON", ("POST", "/invoices", "{not json"), "not valid JSON"),
    Case("api-body-array", "api", "body a JSON array", ("POST", "/invoices", "[1, 2]"), "must be a JSON object"),
    Case("api-body-nested", "api", "JSON nested 100,000 deep",
         ("POST", "/invoices/A1/payments", '{"amount": ' + "[" * 100_000 + "]" * 100_000 + "}"), "nested"),
    Case("api-body-nested-small", "api", "JSON nested 50 deep (beyond any body of the API)",
         ("POST", "/invoices/A1/payments", '{"amount": ' + "[" * 50 + "]" * 50 + "}"), "nested"),
    Case("api-body-text-plain", "api", "`text/plain` body",
         ("POST", "/invoices/A1/payments", '{"amount": "10.00"}', {"Content-Type": "text/plain"}),
         "application/json"),
    Case("api-body-form", "api", "form-encoded body",
         ("POST", "/invoices/A1/payments", "amount=10.00", {"Content-Type": "application/x-www-form-urlencoded"}),
         "application/json"),
    Case("api-body-missing", "api", "no body", ("POST", "/invoices/A1/payments", None), "body is missing"),
    Case("api-email-header-injection", "api", "CRLF + Bcc in the email",
         ("POST", "/customers", _customer(email="a@b.example\r\nBcc: victim@c.example")), "is not an email"),
    Case("api-name-crlf", "api", "CRLF + Bcc in the name",
         ("POST", "/customers", _customer(name="Evil\r\nBcc: victim@c.example")), "control characters"),
    Case("api-name-nul", "api", "NUL in the name", ("POST", "/customers", _customer(name="Evil\x00SARL")),
         "control characters"),
    Case("api-name-esc", "api", "ESC (terminal escape) in the name",
         ("POST", "/customers", _customer(name="Evil\x1b[31mSARL")), "control characters"),
    Case("api-name-bidi", "api", "bidi override (U+202E) in the name",
         ("POST", "/customers", _customer(name="Facture \u202egpj.exe")), "bidirectional"),
    Case("api-name-zero-width", "api", "zero-width space in the name",
         ("POST", "/customers", _customer(name="Boulan\u200bgerie")), "invisible"),
    Case("api-name-noncharacter", "api", "U+FFFF in the name", ("POST", "/customers", _customer(name="Client\uffff")),
         "noncharacter"),
    Case("api-reason-esc", "api", "ESC in a dispute reason",
         ("POST", "/invoices/A1/dispute", {"reason": "ok\x1b]0;pwned\x07"}), "control characters"),
    Case("api-reason-bidi", "api", "bidi isolate (U+2066) in a write-off reason",
         ("POST", "/invoices/A1/write-off", {"reason": "accord \u2066client\u2069"}), "bidirectional"),
    Case("api-reference-crlf", "api", "CRLF in a payment reference",
         ("POST", "/invoices/A1/payments", {"amount": "10.00", "reference": "VIR\r\nX-Evil: 1"}),
         "control characters"),
    Case("api-reference-zero-width", "api", "zero-width joiner in a payment reference",
         ("POST", "/invoices/A1/payments", {"amount": "10.00", "reference": "VIR\u200d1"}), "invisible"),
    Case("api-name-oversized", "api", "name of 10,000 characters", ("POST", "/customers", _customer(name="x" * 10000)),
         "at most 200"),
    Case("api-reason-oversized", "api", "dispute reason of 100,000 characters",
         ("POST", "/invoices/A1/dispute", {"reason": "x" * 100_000}), "at most 500"),
    Case("api-phone", "api", "phone not E.164", ("POST", "/customers", _customer(phone="12345")), "E.164"),
    Case("api-siren", "api", "SIREN of 8 digits", ("POST", "/customers", _customer(siren="12345678")),
         "String should match pattern"),
    Case("api-plan-not-adding-up", "api", "payment plan not adding up to the balance",
         ("PUT", "/invoices/A1/plan", {"instalments": [{"date": "2026-06-01", "amount": "10.00"}]}), "add up to"),
    Case("csv-duplicate-invoice", "csv", "invoice twice in the file",
         _csv("C9;Client;entreprise;DUP;17/03/2026;16/04/2026;100,00\nC9;Client;entreprise;DUP;17/03/2026;"
              "16/04/2026;100,00"), "is already on line"),
    Case("csv-unknown-kind", "csv", "unknown customer type", _csv("C9;Client;martien;X10;17/03/2026;16/04/2026;1,00"),
         "unknown customer type"),
    Case("csv-crlf-name", "csv", "CRLF + Bcc inside a quoted name",
         _csv('C9;"Evil\r\nBcc: victim@c.example";entreprise;X11;17/03/2026;16/04/2026;100,00'),
         "control characters"),
    Case("csv-bidi-name", "csv", "bidi override in a name",
         _csv("C9;Client \u202eLRAS;entreprise;X18;17/03/2026;16/04/2026;100,00"), "bidirectional"),
    Case("csv-noncharacter-name", "csv", "U+FFFE in a name",
         _csv("C9;Client \ufffe;entreprise;X19;17/03/2026;16/04/2026;100,00"), "noncharacter"),
    Case("csv-oversized-name", "csv", "name of 5,000 characters",
         _csv(f"C9;{'x' * 5000};entreprise;X12;17/03/2026;16/04/2026;100,00"), "at most 200"),
    Case("csv-invoice-id-path", "csv", "invoice id with path tricks",
         _csv("C9;Client;entreprise;../../x;17/03/2026;16/04/2026;100,00"), "is not a valid id"),
    Case("csv-cell-count", "csv", "row with missing cells", _csv("C9;Client;entreprise;X13;17/03/2026"),
         "the header has 7"),
    Case("csv-unknown-policy", "csv", "unknown policy",
         "client;nom;type;facture;date_facture;echeance;montant_ttc;politique\n"
         "C9;Client;entreprise;X14;17/03/2026;16/04/2026;100,00;inexistante\n"
         "G-{n};Client Correct SARL;entreprise;OK-{n};17/03/2026;16/04/2026;100,00;standard\n", "is not deployed"),
    Case("csv-encoding", "csv", "bytes neither UTF-8 nor Windows-1252", b"\x81\x8d\x8f\x90\x9d;\x81\n",
         "neither UTF-8 nor Windows-1252", row_level=False),
    Case("csv-utf16", "csv", "UTF-16 file", CSV_HEADER.encode("utf-16"), "unknown column", row_level=False),
    Case("csv-empty", "csv", "empty file", b"", "the file is empty", row_level=False),
    Case("csv-unknown-column", "csv", "unknown column", "client;nom;type;facture;date_facture;echeance;prix\n",
         "unknown column 'prix'", row_level=False),
    Case("csv-missing-column", "csv", "no amount column", "client;nom;type;facture;date_facture;echeance\n",
         "missing column for amount", row_level=False),
    Case("cli-amount-fr", "cli", "French amount on the command line", ("payment", "add", "A1", "12,50"),
         "amount '12,50'"),
    Case("cli-unknown-invoice", "cli", "unknown invoice", ("payment", "add", "NOPE", "10.00"), "does not exist"),
    Case("cli-customer-id", "cli", "customer id with path tricks (GDPR export)",
         ("customer", "export", "../../etc"), "is not a valid customer id"),
    # ---- Factur-X ----------------------------------------------------------------------------------
    Case("fx-not-pdf", "facturx", "CSV renamed .pdf", "not_pdf", "not a PDF file"),
    Case("fx-plain-pdf", "facturx", "PDF without Factur-X XML", "plain", "no Factur-X XML"),
    Case("fx-broken-xml", "facturx", "broken XML attachment", "broken_xml", "not a well-formed"),
    Case("fx-credit-note", "facturx", "credit note (BT-3 381)", "credit_note", "credit note"),
    Case("fx-no-due-date", "facturx", "MINIMUM profile without due date", "minimum", "no payment due date"),
    Case("fx-currency", "facturx", "invoice in USD", "usd", "relance chases invoices in EUR"),
    Case("fx-nothing-due", "facturx", "amount due 0.00 (prepaid)", "prepaid", "nothing to chase"),
    # ---- S3 keys -----------------------------------------------------------------------------------
    Case("key-traversal", "s3key", "`..` in the key", "imports/../letters/x.csv", "path tricks"),
    Case("key-outside", "s3key", "key outside imports/", "letters/2026-04-16/x.csv", "only keys under imports/"),
    Case("key-double-slash", "s3key", "`//` in the key", "imports//x.csv", "path tricks"),
    Case("key-control", "s3key", "control character in the key", "imports/a\x07b.csv", "unexpected characters"),
    Case("key-unsupported", "s3key", "unsupported file type", "imports/virus.exe", "unsupported file type"),
    # ---- scheduled events ---------------------------------------------------------------------------
    Case("sched-no-time", "schedule", "event without time", {"detail": {}}, "has no 'time' field"),
    Case("sched-time-number", "schedule", "time as a number", {"time": 1776319200}, "has no 'time' field"),
    Case("sched-not-iso", "schedule", "time not ISO 8601", {"time": "yesterday"}, "is not an ISO 8601"),
    Case("sched-no-zone", "schedule", "time without zone", {"time": "2026-04-16T06:00:00"}, "has no time zone"),
    Case("sched-not-object", "schedule", "event not an object", ["2026-04-16"], "has no 'time' field"),
    # ---- the S3 event EventBridge delivers to ImportFunction (Powertools parser model) -------------------
    Case("s3event-no-key", "s3event", "event without the object's key", ("del", "detail.object.key"),
         "detail.object.key: Field required"),
    Case("s3event-no-time", "s3event", "event without its time", ("del", "time"), "time: Field required"),
    Case("s3event-bad-time", "s3event", "time not a date", ("set", "time", "hier matin"), "time: Input should be"),
    Case("s3event-s3-notification", "s3event", "an S3 notification (Records), which the template does not wire",
         ("whole", {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "imports/a.csv"}}}]}),
         "not an S3 'Object Created' event from EventBridge"),
    # ---- SQS bodies --------------------------------------------------------------------------------
    Case("sqs-not-json", "sqs", "body not JSON", "customer=C1", "malformed work message"),
    Case("sqs-no-run-date", "sqs", "body without run_date", '{"customer": "C1"}', "malformed work message"),
    Case("sqs-bad-date", "sqs", "run_date not ISO", '{"customer": "C1", "run_date": "16/04/2026"}',
         "malformed work message"),
    Case("sqs-array", "sqs", "body a JSON array", '["C1", "2026-04-16"]', "malformed work message"),
    # ---- stored records (the daily run quarantines them) -------------------------------------------------
    Case("stored-negative-balance", "stored", "negative balance",
         _stored_invoice(amount="-5.00", _meta={"balance": "-5.00"}), "negative"),
    Case("stored-missing-due", "stored", "invoice without due date", _stored_invoice(due=None), "field 'due': missing"),
    Case("stored-non-iso-due", "stored", "non-ISO due date", _stored_invoice(due="16/04/2026"), "is not an ISO date"),
    Case("stored-currency", "stored", "currency USD", _stored_invoice(currency="USD"), "field 'currency'"),
    Case("stored-float-amount", "stored", "amount with three decimals (a float's residue)",
         _stored_invoice(amount="100.004"), "at most two places"),
    Case("stored-balance-garbage", "stored", "balance not a number", _stored_invoice(_meta={"balance": "abc"}),
         "malformed"),
    Case("stored-due-before-issue", "stored", "due before issue", _stored_invoice(due="2026-01-01"),
         "is before the issue date"),
    Case("stored-customer-policy", "stored", "customer with an unknown policy",
         {"customer": {"policy": "inexistante"}}, "is not deployed"),
    Case("stored-customer-unreachable", "stored", "customer without email, phone or address",
         {"customer": {"email": None}}, "has no usable contact"),
    Case("stored-customer-crlf", "stored", "customer name with CRLF + Bcc",
         {"customer": {"name": "Evil\r\nBcc: victim@c.example"}}, "control characters"),
    Case("stored-customer-noncharacter", "stored", "customer name with U+FFFE",
         {"customer": {"name": "Client \ufffe SARL"}}, "noncharacter"),
    Case("stored-customer-bidi", "stored", "customer name with a bidi override",
         {"customer": {"name": "Client \u202eLRAS"}}, "bidirectional"),
    Case("stored-invoice-year-9999", "stored", "invoice due in year 9999",
         _stored_invoice(issued="9999-12-01", due="9999-12-31"), "between 2000 and 2100"),
    Case("stored-customer-missing", "stored", "invoice whose customer does not exist",
         {"customer": None}, "does not exist"),
    # ---- policies ----------------------------------------------------------------------------------
    Case("policy-unknown-channel", "policy", "unknown channel",
         "name: p\ntimezone: Europe/Paris\nsteps:\n  - id: one\n    at: due+1d\n    channels: [fax]\n"
         "    template: courtesy\n", "unknown channel 'fax'"),
    Case("policy-bad-offset", "policy", "offset not due±Nd",
         "name: p\ntimezone: Europe/Paris\nsteps:\n  - id: one\n    at: tomorrow\n    channels: [email]\n"
         "    template: courtesy\n", "malformed offset 'tomorrow'"),
    Case("policy-duplicate-step", "policy", "duplicate step id",
         "name: p\ntimezone: Europe/Paris\nsteps:\n  - id: one\n    at: due+1d\n    channels: [email]\n"
         "    template: courtesy\n  - id: one\n    at: due+2d\n    channels: [email]\n    template: courtesy\n",
         "duplicate step id 'one'"),
    Case("policy-unknown-condition", "policy", "unknown condition",
         "name: p\ntimezone: Europe/Paris\nsteps:\n  - id: one\n    at: due+1d\n    channels: [email]\n"
         "    template: courtesy\n    when: {foo: 1}\n", "unknown condition 'foo'"),
    Case("policy-float-amount", "policy", "unquoted float amount",
         "name: p\ntimezone: Europe/Paris\nmin_balance: 10.5\nsteps:\n  - id: one\n    at: due+1d\n"
         "    channels: [email]\n    template: courtesy\n", "quoted decimal string"),
    Case("policy-yaml-syntax", "policy", "YAML syntax error", "name: p\nsteps: [unclosed\n", "YAML syntax error"),
    Case("policy-encoding", "policy", "UTF-16 file", "name: p\n".encode("utf-16"), "not a UTF-8 text file"),
]


def facturx_input(name: str) -> bytes:
    """The PDF of a ``facturx`` case (built on demand: the factur-x library checks the XML)."""
    import facturx
    from test_facturx import cii_xml, facturx_pdf, pdf_with_attachment, plain_pdf

    if name == "not_pdf":
        return b"client;facture\nC1;F1\n"
    if name == "plain":
        return plain_pdf()
    if name == "broken_xml":
        return pdf_with_attachment("factur-x.xml", b"<rsm:CrossIndustryInvoice><oops")
    if name == "credit_note":
        return facturx_pdf(type_code="381", number="FX-CN")
    if name == "minimum":
        return facturx_pdf("minimum", number="FX-MIN")
    if name == "prepaid":
        return facturx_pdf(number="FX-PRE", due_payable="0.00")
    if name == "usd":
        xml = cii_xml(number="FX-USD").replace(b">EUR<", b">USD<")
        return bytes(facturx.generate_from_binary(plain_pdf(), xml, level="basic", check_xsd=True))
    raise KeyError(name)


def markdown_table() -> str:
    """The catalogue as the Markdown table of docs/hardening.md."""
    lines = ["| # | id | enters through | bad input | clear error (substring) | outcome |",
             "|---|---|---|---|---|---|"]
    for number, case in enumerate(CASES, start=1):
        error = case.error.replace("|", "\\|")
        lines.append(f"| {number} | `{case.id}` | {ENTRIES[case.entry]} | {case.what} | `{error}` | "
                     f"{OUTCOMES[case.entry]} |")
    return "\n".join(lines) + "\n"
