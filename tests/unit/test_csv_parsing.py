"""CSV import: the French spreadsheet formats (separators, decimal commas, encodings, dates, headers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.imports.csv_import import (
    FileError,
    decode,
    normalize_header,
    parse_csv_amount,
    parse_csv_date,
    parse_kind,
    read_rows,
    sniff_delimiter,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("1800.00", "1800.00"), ("1800", "1800.00"), ("1200,50", "1200.50"), ("1 200,50", "1200.50"),
    ("1\u00a0200,50", "1200.50"), ("1\u202f200,50", "1200.50"), ("12\u202f345\u202f678,9", "12345678.90"),
    ("1 200,50 €", "1200.50"), ("0,5", "0.50"), (" 42,00 ", "42.00"),
])
def test_amounts_french_and_plain(text: str, expected: str) -> None:
    assert parse_csv_amount(text) == Decimal(expected)


@pytest.mark.parametrize(("text", "needle"), [
    ("1,200.00", "ambiguous"), ("1.200,00", "ambiguous"), ("1,200", "ambiguous"), ("1.200", "ambiguous"),
    ("12 00,50", "groups of three"), ("-12,00", "negative"), ("abc", "not an amount"), ("0,00", "zero"),
])
def test_ambiguous_or_bad_amounts_are_refused(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_csv_amount(text)


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2))
def test_french_formatting_round_trips(amount: Decimal) -> None:
    whole, cents = f"{amount:.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", "\u202f")
    assert parse_csv_amount(f"{groups},{cents}") == amount
    assert parse_csv_amount(f"{amount:.2f}") == amount


@pytest.mark.parametrize(("text", "expected"), [
    ("31/03/2026", dt.date(2026, 3, 31)), ("1/4/2026", dt.date(2026, 4, 1)), ("31-03-2026", dt.date(2026, 3, 31)),
    ("31.03.2026", dt.date(2026, 3, 31)), ("2026-03-31", dt.date(2026, 3, 31)),
])
def test_dates_day_first_or_iso(text: str, expected: dt.date) -> None:
    assert parse_csv_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2026", "03/31/2026", "31/03/26", "2026/03/31", "mars 2026"])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_csv_date(text)


def test_encodings_bom_and_windows_1252() -> None:
    text = "nom;échéance\nSociété Générale;31/03/2026\n"
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode(text.encode("utf-8")) == text
    assert decode(text.encode("cp1252")) == text
    with pytest.raises(FileError, match="neither UTF-8 nor Windows-1252"):
        decode(b"\x81\x8d\x8f\x90\x9d")


def test_delimiter_sniffing() -> None:
    assert sniff_delimiter("client;nom;montant_ttc") == ";"
    assert sniff_delimiter("customer_id,customer_name,amount") == ","
    assert sniff_delimiter('"a;b",c,d') == ","
    assert sniff_delimiter("a\tb\tc") == "\t"


def test_headers_french_and_english() -> None:
    assert normalize_header(" Échéance ") == "echeance"
    assert normalize_header("N° facture") == "n_facture"
    assert normalize_header("Montant TTC") == "montant_ttc"
    fr, _ = read_rows(b"client;nom;type;email;telephone;adresse;facture;date_facture;echeance;montant_ttc\n"
)
    en, _ = read_rows(b"customer_id,customer_name,kind,email,phone,address,invoice,issued,due,amount\n")
    assert fr == en == ["id", "name", "kind", "email", "phone", "address", "invoice", "issued", "due", "amount"]


def test_header_problems_are_file_errors_on_line_1() -> None:
    with pytest.raises(FileError, match="unknown column 'montant_ht'") as err:
        read_rows(b"client;facture;date_facture;echeance;montant_ht\n")
    assert err.value.where == "line 1"
    with pytest.raises(FileError, match="missing column for amount"):
        read_rows(b"client;facture;date_facture;echeance\n")
    with pytest.raises(FileError, match="a second time"):
        read_rows(b"client;customer;facture;date_facture;echeance;montant\n")


def test_kinds_in_french() -> None:
    assert [parse_kind(k) for k in ("Entreprise", "particulier", "Administration", "B2B")] == \
        ["b2b", "b2c", "public", "b2b"]
    with pytest.raises(ValueError, match="unknown customer type"):
        parse_kind("association")


def test_row_line_numbers_count_quoted_newlines_and_skip_blank_rows() -> None:
    data = (b'client;nom;facture;date_facture;echeance;montant\n'
            b'C1;"Boulangerie\nExemple";F1;01/03/2026;31/03/2026;10,00\n'
            b'\n'
            b'C2;Autre;F2;01/03/2026;31/03/2026;20,00\n')
    _, rows = read_rows(data)
    assert [r.line for r in rows] == [2, 5]
