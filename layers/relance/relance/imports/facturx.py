"""Factur-X import: a PDF invoice with its embedded CII XML becomes an invoice to chase.

Read from the XML (EN 16931 business terms): BT-1 invoice number, BT-3 type (380 invoice; a 381 credit
note is refused), BT-2 issue date, BT-9 payment due date, BT-5 currency (EUR), BT-112 grand total (the
invoice amount, TTC), BT-115 amount due for payment (the balance, when something was prepaid), BT-44 buyer
name, BT-46 buyer identifier, BT-47 buyer legal registration (SIREN, scheme 0002; a SIRET, scheme 0009,
gives its SIREN), BT-49 buyer electronic address or the buyer contact's email.

The customer is the buyer: its id is the one given by the caller, else BT-46, else the SIREN. A customer
that does not exist yet is created (kind b2b); an existing one is left as the operators keep it.
The original PDF is kept in the letters bucket (``invoices/<id>.pdf``) and passed as the invoice's
``attachment_key``, so that the reminders attach it. Importing the same PDF twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from relance.errors import RelanceError, ValidationError
from relance.ledger import Ledger
from relance.models import Customer, Invoice, parse_record
from relance.ports import Files

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_SUMMATION = f"{_SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
_BUYER = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty"
MAX_PDF_BYTES = 15 * 1024 * 1024

# The factur-x library logs every attachment it skips as a warning; our errors say it better.
logging.getLogger("factur-x").setLevel(logging.ERROR)


class FacturxError(ValidationError):
    """The PDF is not a usable Factur-X invoice; the message says why (and which business term)."""


@dataclass(frozen=True)
class FacturxInvoice:
    """The fields relance needs, read from the CII XML."""

    number: str
    type_code: str
    issued: dt.date
    due: dt.date | None
    currency: str
    grand_total: Decimal
    due_payable: Decimal
    buyer_name: str
    buyer_id: str | None
    siren: str | None
    email: str | None
    level: str


@dataclass(frozen=True)
class FacturxResult:
    invoice_id: str
    customer_id: str
    created: bool
    customer_created: bool
    attachment_key: str | None


# ---------------------------------------------------------------------------- reading
def extract_xml(pdf: bytes, source: str = "PDF") -> bytes:
    """The Factur-X XML embedded in ``pdf``; FacturxError naming what is missing or broken."""
    import facturx  # lazy: lxml and pypdf are only needed by this import

    if not pdf.lstrip()[:5] == b"%PDF-":
        raise FacturxError("not a PDF file", source)
    if len(pdf) > MAX_PDF_BYTES:
        raise FacturxError(f"the PDF is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB", source)
    try:
        _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    except Exception:
        raise FacturxError("the PDF cannot be read (damaged or encrypted file)", source) from None
    if xml:
        return bytes(xml)
    names = _attachment_names(pdf)
    xml_names = [n for n in names if n.lower().endswith(".xml")]
    if xml_names:
        raise FacturxError(f"the attached {xml_names[0]} is not a well-formed Factur-X (CII) XML", source)
    raise FacturxError("the PDF carries no Factur-X XML: it is a plain PDF invoice (import it by CSV or "
                       "the API)", source)


def _attachment_names(pdf: bytes) -> list[str]:
    try:
        from pypdf import PdfReader

        return [str(a.name) for a in PdfReader(io.BytesIO(pdf)).attachment_list]
    except Exception:
        return []


def parse_xml(xml: bytes, source: str = "PDF", *, check_xsd: bool = True) -> FacturxInvoice:
    """Read the business terms relance needs from a Factur-X CII XML (checked against its XSD)."""
    import facturx
    from lxml import etree

    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise FacturxError(f"the Factur-X XML is not well-formed ({exc.msg})", source) from None
    if etree.QName(root).localname != "CrossIndustryInvoice":
        raise FacturxError("the XML is not a CII CrossIndustryInvoice (UBL is not supported here)", source)
    try:
        level = str(facturx.get_level(root))
    except Exception:
        raise FacturxError("the XML names no Factur-X profile (GuidelineSpecifiedDocumentContextParameter)",
                           source) from None
    if check_xsd:
        try:
            facturx.xml_check_xsd(xml, flavor="factur-x", level=level)
        except Exception as exc:
            detail = str(exc).split("on the cause of the problem: ", 1)[-1].replace(
                "{" + NS["ram"] + "}", "ram:").replace("{" + NS["rsm"] + "}", "rsm:")
            raise FacturxError(f"the Factur-X XML does not match the {level} schema: {detail}"[:400],
                               source) from None

    def text(path: str) -> str | None:
        found = root.xpath(path, namespaces=NS)
        if not found:
            return None
        node = found[0]
        value = node if isinstance(node, str) else node.text
        return value.strip() if value and value.strip() else None

    def required(path: str, term: str) -> str:
        value = text(path)
        if value is None:
            raise FacturxError(f"missing {term}", source)
        return value

    def date(path: str, term: str, optional: bool = False) -> dt.date | None:
        value = text(path) if optional else required(path, term)
        if value is None:
            return None
        try:
            return dt.datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            raise FacturxError(f"{term} {value!r} is not a date in format 102 (YYYYMMDD)", source) from None

    def amount(path: str, term: str) -> Decimal:
        value = required(path, term)
        try:
            return Decimal(value)
        except InvalidOperation:
            raise FacturxError(f"{term} {value!r} is not an amount", source) from None

    issued = date("rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString", "issue date (BT-2)")
    assert issued is not None
    siren = text(f"{_BUYER}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']")
    siret = text(f"{_BUYER}/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0009']")
    if siren is None and siret and len(siret) == 14 and siret.isdigit():
        siren = siret[:9]
    return FacturxInvoice(
        number=required("rsm:ExchangedDocument/ram:ID", "invoice number (BT-1)"),
        type_code=text("rsm:ExchangedDocument/ram:TypeCode") or "380",
        issued=issued,
        due=date(f"{_SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
                 "payment due date (BT-9)", optional=True),
        currency=required(f"{_SETTLEMENT}/ram:InvoiceCurrencyCode", "currency (BT-5)"),
        grand_total=amount(f"{_SUMMATION}/ram:GrandTotalAmount", "grand total (BT-112)"),
        due_payable=amount(f"{_SUMMATION}/ram:DuePayableAmount", "amount due for payment (BT-115)"),
        buyer_name=required(f"{_BUYER}/ram:Name", "buyer name (BT-44)"),
        buyer_id=text(f"{_BUYER}/ram:ID"),
        siren=siren,
        email=text(f"{_BUYER}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']")
        or text(f"{_BUYER}/ram:DefinedTradeContact/ram:EmailURIUniversalCommunication/ram:URIID"),
        level=level,
    )


def read_facturx(pdf: bytes, source: str = "PDF") -> FacturxInvoice:
    """Extract and parse the Factur-X XML of a PDF."""
    return parse_xml(extract_xml(pdf, source), source)


# ---------------------------------------------------------------------------- importing
def attachment_key(invoice_id: str) -> str:
    """Where the original PDF is kept (``/`` in an id is escaped: one object per invoice, no sub-folders)."""
    return f"invoices/{quote(invoice_id, safe='-_.')}.pdf"


def to_records(fx: FacturxInvoice, customer_id: str | None, source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(customer fields, invoice fields) for the ledger, or FacturxError saying what cannot be chased."""
    if fx.type_code == "381":
        raise FacturxError(f"invoice {fx.number} is a credit note (BT-3 = 381): nothing to chase", source)
    if fx.currency != "EUR":
        raise FacturxError(f"currency (BT-5) is {fx.currency}; relance chases invoices in EUR", source)
    if fx.due is None:
        raise FacturxError(f"invoice {fx.number} has no payment due date (BT-9); a MINIMUM profile has none: "
                           "send BASIC WL or above, or import it by CSV with its due date", source)
    if fx.due_payable <= 0:
        raise FacturxError(f"invoice {fx.number}: amount due for payment (BT-115) is {fx.due_payable}: "
                           "nothing to chase", source)
    cid = customer_id or fx.buyer_id or fx.siren
    if not cid:
        raise FacturxError("the buyer has neither an identifier (BT-46) nor a SIREN (BT-47); give the "
                           "customer id", source)
    customer: dict[str, Any] = {"id": cid, "name": fx.buyer_name, "kind": "b2b"}
    if fx.siren:
        customer["siren"] = fx.siren
    if fx.email:
        customer["email"] = fx.email
    invoice: dict[str, Any] = {"id": fx.number, "customer": cid, "issued": fx.issued.isoformat(),
                               "due": fx.due.isoformat(), "amount": str(fx.grand_total)}
    if fx.due_payable < fx.grand_total:
        invoice["balance"] = str(fx.due_payable)
    return customer, invoice


def import_facturx(pdf: bytes, ledger: Ledger, files: Files, today: dt.date, *,
                   customer_id: str | None = None, source: str = "PDF") -> FacturxResult:
    """Create the invoice of a Factur-X PDF (and its customer if new), keeping the PDF for the reminders."""
    fx = read_facturx(pdf, source)
    customer_data, invoice_data = to_records(fx, customer_id, source)
    invoice = parse_record(Invoice, invoice_data, f"{source}: invoice {fx.number}")
    existing = ledger.store.get_invoice(invoice.id)
    if existing is not None:
        if existing.customer_id != invoice.customer:
            raise FacturxError(f"invoice {invoice.id} already exists for customer {existing.customer_id}", source)
        return FacturxResult(invoice.id, invoice.customer, False, False, existing.attachment_key)
    customer_created = ledger.store.get_customer_raw(invoice.customer) is None
    if customer_created:
        customer = parse_record(Customer, customer_data, f"{source}: buyer (BT-44..49)")
        ledger.policy_for(customer)
    else:
        ledger.policy_for(ledger.customer(invoice.customer))
    key = attachment_key(invoice.id)
    try:
        files.put(key, pdf, "application/pdf", {"invoice": quote(invoice.id), "source": "factur-x"})
    except Exception as exc:
        raise RelanceError(f"could not store the PDF as {key} in the letters bucket ({type(exc).__name__})",
                           source) from None
    if customer_created:
        ledger.upsert_customer(customer_data)
    _, created = ledger.create_invoice(invoice_data, today, attachment_key=key)
    return FacturxResult(invoice.id, invoice.customer, created, customer_created, key)
