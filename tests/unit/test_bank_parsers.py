"""The three statement formats: the same movements read alike; each kind of bad file refused, named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from bank_samples import MOVES, Move, camt, cfonb, cfonb_amount, ofx_v1, ofx_v2

from relance.bank import BankFileError, detect_format, parse_statement
from relance.bank.cfonb import signed_amount


def _summary(data: bytes, name: str) -> list[tuple[str, dt.date, Decimal, bool]]:
    return [(e.key, e.booking_date, e.amount, e.credit) for e in parse_statement(data, name).entries]


EXPECTED = [(m.ref, m.booked, abs(m.amount), m.amount > 0) for m in MOVES]


@pytest.mark.parametrize("version", ["02", "03", "04", "05", "06", "07", "08"])
def test_camt053_every_version_reads_the_same_entries(version: str) -> None:
    statement = parse_statement(camt(version=version), "releve.xml")
    assert statement.format == f"camt.053.001.{version}"
    assert [(e.key, e.booking_date, e.amount, e.credit) for e in statement.entries] == EXPECTED
    first = statement.entries[0]
    assert first.account == "FR7630004008230001234567819"
    assert first.payer_name == "BOULANGERIE EXEMPLE SARL"
    assert first.payer_iban == "FR7610278060000002048150134"
    assert first.remittance == "FACTURE F-2026-031"
    assert statement.entries[4].structured_ref == MOVES[4].rf
    assert first.end_to_end == ""                     # NOTPROVIDED is no reference


def test_ofx_sgml_and_xml_read_the_same_entries() -> None:
    assert _summary(ofx_v1(), "r.ofx") == EXPECTED
    assert _summary(ofx_v2(), "r.ofx") == EXPECTED
    entry = parse_statement(ofx_v1(), "r.ofx").entries[1]
    assert entry.payer_name == "GARAGE MARTIN" and "FACT F 2026 032" in entry.remittance


def test_cfonb120_reads_movements_and_complements() -> None:
    statement = parse_statement(cfonb(), "r.txt")
    assert statement.format == "cfonb120"
    assert [(e.key, e.booking_date, e.amount, e.credit) for e in statement.entries] == EXPECTED
    first = statement.entries[0]
    assert first.payer_name == "BOULANGERIE EXEMPLE SARL" and first.payer_iban == MOVES[0].iban
    assert first.where == "r.txt:2" and first.account == "300040082300012345678"
    assert statement.entries[4].structured_ref == MOVES[4].rf


def test_cfonb_records_without_line_breaks_are_read() -> None:
    data = cfonb().replace(b"\r\n", b"")
    assert _summary(data, "r.txt") == EXPECTED


@pytest.mark.parametrize(("zone", "decimals", "value"), [
    ("0000000018000{", 2, Decimal("1800.00")), ("0000000014505{", 2, Decimal("1450.50")),
    ("0000000000012A", 2, Decimal("1.21")), ("0000000000012I", 2, Decimal("1.29")),
    ("0000000003200}", 2, Decimal("-320.00")), ("0000000000012J", 2, Decimal("-1.21")),
    ("0000000000012R", 2, Decimal("-1.29")), ("0000000000012R", 0, Decimal("-129")),
])
def test_cfonb_sign_codes(zone: str, decimals: int, value: Decimal) -> None:
    assert signed_amount(zone, decimals, "x") == value


def test_cfonb_amount_round_trip() -> None:
    for value in (Decimal("0.01"), Decimal("-777.00"), Decimal("123456.78")):
        assert signed_amount(cfonb_amount(value), 2, "x") == value


def test_detection_is_by_content() -> None:
    assert detect_format(camt()) == "camt053"
    assert detect_format(ofx_v1()) == "ofx" and detect_format(ofx_v2()) == "ofx"
    assert detect_format(cfonb()) == "cfonb120"
    with pytest.raises(BankFileError, match="not a bank statement"):
        parse_statement(b"client;facture\nC1;F1\n", "x.csv")


# ---------------------------------------------------------------------------- bad files
def _refused(data: bytes, name: str) -> str:
    with pytest.raises(BankFileError) as info:
        parse_statement(data, name)
    return str(info.value)


def test_truncated_camt_is_refused_with_its_line() -> None:
    data = camt()
    message = _refused(data[: len(data) // 2], "releve.xml")
    assert message.startswith("releve.xml:") and "malformed or truncated" in message


def test_camt_entry_without_amount_is_refused_naming_the_entry() -> None:
    data = camt().replace(b'<Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>', b"<CdtDbtInd>CRDT"
                          b"</CdtDbtInd><Sts>", 1)
    message = _refused(data, "releve.xml")
    assert message.startswith("releve.xml entry 2 (line 7)") and "without amount" in message


def test_camt_in_another_currency_is_refused() -> None:
    assert "USD" in _refused(camt(currency="USD"), "r.xml")


def test_camt_entities_are_refused_not_expanded() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<Document><BkToCstmrStmt/></Document>")
    assert "no DTD or entities" in _refused(bomb, "r.xml")


def test_cfonb_line_of_the_wrong_length_is_refused_with_its_line() -> None:
    lines = cfonb().split(b"\r\n")
    lines[5] = lines[5][:-3]
    message = _refused(b"\r\n".join(lines), "releve.txt")
    assert message == "releve.txt:6: line is 117 characters long; a CFONB 120 record has 120"


def test_cfonb_movement_without_amount_is_refused() -> None:
    lines = cfonb().split(b"\r\n")
    lines[1] = lines[1][:90] + b" " * 14 + lines[1][104:]
    assert _refused(b"\r\n".join(lines), "r.txt") == "r.txt:2: movement without amount"


def test_cfonb_other_currency_and_bad_sign_are_refused() -> None:
    lines = cfonb().split(b"\r\n")
    assert "USD" in _refused(b"\r\n".join([lines[0][:16] + b"USD" + lines[0][19:], *lines[1:]]), "r.txt")
    lines[1] = lines[1][:103] + b"X" + lines[1][104:]
    assert _refused(b"\r\n".join(lines), "r.txt").startswith("r.txt:2: amount")


def test_ofx_in_another_currency_is_refused() -> None:
    message = _refused(ofx_v1(currency="USD"), "releve.ofx")
    assert message.startswith("releve.ofx (CURDEF)") and "USD" in message


def test_ofx_entry_without_amount_is_refused_naming_the_entry() -> None:
    data = ofx_v1().replace(b"<TRNAMT>1000.00", b"")
    message = _refused(data, "releve.ofx")
    assert message.startswith("releve.ofx entry 2 (FITID 2026043000002)") and "without amount" in message


def test_ofx_garbage_is_refused() -> None:
    assert "not a readable OFX file" in _refused(b"OFXHEADER:100\r\nDATA:OFXSGML\r\n\r\n<OFX><BROKEN", "r.ofx")


def test_batch_booking_gives_one_entry_per_transaction() -> None:
    moves = (Move("B1", dt.date(2026, 5, 4), Decimal("300.00"), "X", "", "F-2026-031"),)
    data = camt(moves).replace(
        b"</TxDtls></NtryDtls>",
        b'</TxDtls><TxDtls><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>Y</Nm>'
        b"</Pty></Dbtr></RltdPties><RmtInf><Ustrd>F-2026-032</Ustrd></RmtInf></TxDtls></NtryDtls>")
    entries = parse_statement(data, "b.xml").entries
    assert [(e.key, e.amount, e.payer_name, e.remittance) for e in entries] == [
        ("B1-1", Decimal("300.00"), "X", "F-2026-031"), ("B1-2", Decimal("100.00"), "Y", "F-2026-032")]


def test_a_bank_reference_used_twice_in_a_file_keeps_both_movements() -> None:
    moves = (Move("VIR", dt.date(2026, 5, 4), Decimal("10.00"), "A", "", "x"),
             Move("VIR", dt.date(2026, 5, 4), Decimal("20.00"), "B", "", "y"))
    assert [e.key for e in parse_statement(cfonb(moves), "r.txt").entries] == ["VIR", "VIR-2"]


def test_the_sample_statements_are_the_generators_output() -> None:
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "events" / "statements"
    assert (folder / "releve.xml").read_bytes() == camt()
    assert (folder / "releve.ofx").read_bytes() == ofx_v1()
    assert (folder / "releve.txt").read_bytes() == cfonb()
