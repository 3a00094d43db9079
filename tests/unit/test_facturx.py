"""Factur-X reading: a sample PDF with its CII XML built here (fpdf2 + factur-x), and the broken cases."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import facturx
import pytest
from fpdf import FPDF
from pypdf import PdfWriter

from relance.imports.facturx import FacturxError, read_facturx, to_records

GUIDELINES = {"minimum": "urn:factur-x.eu:1p0:minimum",
              "basic": "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"}


def cii_xml(*, level: str = "basic", number: str = "F-2026-001", issued: str = "20260317",
            due: str | None = "20260416", total: str = "1800.00", due_payable: str | None = None,
            buyer: str = "Boulangerie Exemple SARL", buyer_id: str | None = None, siren: str = "123456789",
            email: str | None = "compta@boulangerie.example", type_code: str = "380") -> bytes:
    """A small CII invoice (1500.00 HT + 20 % VAT) valid against the Factur-X XSD of ``level``."""
    basic = level == "basic"
    line = """<ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedTradeProduct><ram:Name>Pain de campagne</ram:Name></ram:SpecifiedTradeProduct>
      <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>1500.00</ram:ChargeAmount>
      </ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
      <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">1</ram:BilledQuantity>
      </ram:SpecifiedLineTradeDelivery>
      <ram:SpecifiedLineTradeSettlement>
        <ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>S</ram:CategoryCode>
        <ram:RateApplicablePercent>20.00</ram:RateApplicablePercent></ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>1500.00</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementLineMonetarySummation>
      </ram:SpecifiedLineTradeSettlement>
    </ram:IncludedSupplyChainTradeLineItem>""" if basic else ""
    buyer_id_xml = f"<ram:ID>{buyer_id}</ram:ID>" if buyer_id else ""
    contact = (f'<ram:URIUniversalCommunication><ram:URIID schemeID="EM">{email}</ram:URIID>'
               "</ram:URIUniversalCommunication>") if email and basic else ""
    address = "<ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>" if basic else ""
    tax = ("<ram:ApplicableTradeTax><ram:CalculatedAmount>300.00</ram:CalculatedAmount><ram:TypeCode>VAT"
           "</ram:TypeCode><ram:BasisAmount>1500.00</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>"
           "<ram:RateApplicablePercent>20.00</ram:RateApplicablePercent></ram:ApplicableTradeTax>") if basic else ""
    terms = ("<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>"
             f'<udt:DateTimeString format="102">{due}</udt:DateTimeString></ram:DueDateDateTime>'
             "</ram:SpecifiedTradePaymentTerms>") if due and basic else ""
    line_total = "<ram:LineTotalAmount>1500.00</ram:LineTotalAmount>" if basic else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
 xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
    <ram:ID>{GUIDELINES[level]}</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument>
    <ram:ID>{number}</ram:ID><ram:TypeCode>{type_code}</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">{issued}</udt:DateTimeString></ram:IssueDateTime>
  </rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    {line}
    <ram:ApplicableHeaderTradeAgreement>
      <ram:SellerTradeParty><ram:Name>Menuiserie Exemple SAS</ram:Name>
        <ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">987654321</ram:ID></ram:SpecifiedLegalOrganization>
        <ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR12987654321</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty>{buyer_id_xml}<ram:Name>{buyer}</ram:Name>
        <ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">{siren}</ram:ID></ram:SpecifiedLegalOrganization>
        {address}{contact}
      </ram:BuyerTradeParty>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      {tax}{terms}
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        {line_total}<ram:TaxBasisTotalAmount>1500.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">300.00</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>{total}</ram:GrandTotalAmount>
        <ram:DuePayableAmount>{due_payable or total}</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
""".encode()


def plain_pdf(title: str = "Facture F-2026-001") -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(text=title)
    return bytes(doc.output())


def facturx_pdf(level: str = "basic", **fields: object) -> bytes:
    """A Factur-X PDF made by the factur-x library (it checks the XML against the level's XSD)."""
    return bytes(facturx.generate_from_binary(plain_pdf(), cii_xml(level=level, **fields),  # type: ignore[arg-type]
                                              level=level, check_xsd=True))


def pdf_with_attachment(name: str, content: bytes) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(plain_pdf()))
    writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_basic_sample_gives_every_business_term() -> None:
    fx = read_facturx(facturx_pdf())
    assert (fx.number, fx.issued, fx.due) == ("F-2026-001", dt.date(2026, 3, 17), dt.date(2026, 4, 16))
    assert (fx.grand_total, fx.due_payable, fx.currency) == (Decimal("1800.00"), Decimal("1800.00"), "EUR")
    assert (fx.buyer_name, fx.siren, fx.email, fx.level) == (
        "Boulangerie Exemple SARL", "123456789", "compta@boulangerie.example", "basic")
    customer, invoice = to_records(fx, None, "x.pdf")
    assert customer == {"id": "123456789", "name": "Boulangerie Exemple SARL", "kind": "b2b",
                        "siren": "123456789", "email": "compta@boulangerie.example"}
    assert invoice == {"id": "F-2026-001", "customer": "123456789", "issued": "2026-03-17",
                       "due": "2026-04-16", "amount": "1800.00"}


def test_buyer_identifier_and_prepaid_part() -> None:
    fx = read_facturx(facturx_pdf(buyer_id="C1", due_payable="1000.00"))
    _, invoice = to_records(fx, None, "x.pdf")
    assert invoice["customer"] == "C1" and (invoice["amount"], invoice["balance"]) == ("1800.00", "1000.00")


def test_minimum_profile_has_no_due_date() -> None:
    fx = read_facturx(facturx_pdf("minimum"))
    assert fx.level == "minimum" and fx.due is None
    with pytest.raises(FacturxError, match=r"no payment due date \(BT-9\)"):
        to_records(fx, None, "x.pdf")


def test_credit_note_is_not_chased() -> None:
    with pytest.raises(FacturxError, match="credit note"):
        to_records(read_facturx(facturx_pdf(type_code="381")), None, "x.pdf")


def test_pdf_without_xml() -> None:
    with pytest.raises(FacturxError, match="no Factur-X XML") as err:
        read_facturx(plain_pdf(), "imports/scan.pdf")
    assert str(err.value).startswith("imports/scan.pdf: ")


def test_broken_xml() -> None:
    with pytest.raises(FacturxError, match=r"factur-x\.xml is not a well-formed"):
        read_facturx(pdf_with_attachment("factur-x.xml", b"<rsm:CrossIndustryInvoice><oops"))


def test_xml_against_the_schema() -> None:
    invalid = cii_xml().replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    with pytest.raises(FacturxError, match=r"does not match the basic schema: .*IssueDateTime"):
        read_facturx(pdf_with_attachment("factur-x.xml", invalid))


def test_not_a_pdf() -> None:
    with pytest.raises(FacturxError, match="not a PDF file"):
        read_facturx(b"id;amount\n1;2\n")
