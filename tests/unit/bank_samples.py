"""Sample bank statements in the three formats, built from one list of movements.

``python tests/unit/bank_samples.py`` rewrites ``events/statements/`` (the files the bank season drops).
The tests build their bad variants from the same functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

ACCOUNT_IBAN = "FR7630004008230001234567819"
BANK, BRANCH, ACCOUNT = "30004", "00823", "00012345678"


@dataclass(frozen=True)
class Move:
    ref: str
    booked: dt.date
    amount: Decimal          # positive: credit, negative: debit
    name: str = ""
    iban: str = ""
    text: str = ""
    rf: str = ""


MOVES = (
    Move("2026043000001", dt.date(2026, 4, 30), Decimal("1800.00"), "BOULANGERIE EXEMPLE SARL",
         "FR7610278060000002048150134", "FACTURE F-2026-031"),
    Move("2026043000002", dt.date(2026, 4, 30), Decimal("1000.00"), "GARAGE MARTIN",
         "FR7630003012340005001234509", "FACT F 2026 032 ACOMPTE"),
    Move("2026043000003", dt.date(2026, 4, 30), Decimal("-320.00"), "URSSAF", "", "PRLV SEPA URSSAF AVRIL"),
    Move("2026050400001", dt.date(2026, 5, 4), Decimal("1450.50"), "CAFE DU PORT",
         "FR7620041010050050001340242", "VIREMENT AVRIL"),
    Move("2026050400002", dt.date(2026, 5, 4), Decimal("990.00"), "SARL LEROY ET FILS", "", "", "RF54F2026036"),
    Move("2026050400003", dt.date(2026, 5, 4), Decimal("777.00"), "M DUPONT JEAN",
         "FR7611306000870009999000172", "VIR SEPA REMBOURSEMENT CAUTION"),
)


# ---------------------------------------------------------------------------- camt.053
def camt(moves: tuple[Move, ...] = MOVES, version: str = "08", currency: str = "EUR") -> bytes:
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    new = int(version) >= 3
    entries = []
    for m in moves:
        amount = f'<Amt Ccy="{currency}">{abs(m.amount):.2f}</Amt>'
        indicator = "CRDT" if m.amount > 0 else "DBIT"
        party = f"<Pty><Nm>{escape(m.name)}</Nm></Pty>" if int(version) >= 8 else f"<Nm>{escape(m.name)}</Nm>"
        debtor = f"<Dbtr>{party}</Dbtr>" if m.name else ""
        debtor_account = f"<DbtrAcct><Id><IBAN>{m.iban}</IBAN></Id></DbtrAcct>" if m.iban else ""
        remittance = f"<Ustrd>{escape(m.text)}</Ustrd>" if m.text else ""
        if m.rf:
            remittance += (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{m.rf}</Ref>"
                           "</CdtrRefInf></Strd>")
        tx_amount = (f"{amount}<CdtDbtInd>{indicator}</CdtDbtInd>" if new
                     else f"<AmtDtls><TxAmt>{amount}</TxAmt></AmtDtls>")
        status = "<Sts><Cd>BOOK</Cd></Sts>" if int(version) >= 8 else "<Sts>BOOK</Sts>"
        entries.append(
            f"<Ntry>{amount}<CdtDbtInd>{indicator}</CdtDbtInd>{status}"
            f"<BookgDt><Dt>{m.booked.isoformat()}</Dt></BookgDt><ValDt><Dt>{m.booked.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{m.ref}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>{tx_amount}"
            f"<RltdPties>{debtor}{debtor_account}</RltdPties>"
            + (f"<RmtInf>{remittance}</RmtInf>" if remittance else "")
            + "</TxDtls></NtryDtls></Ntry>")
    body = "\n    ".join(entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{ns}">\n <BkToCstmrStmt>\n'
            f"  <GrpHdr><MsgId>RELEVE-2026-05-04</MsgId><CreDtTm>2026-05-04T06:00:00</CreDtTm></GrpHdr>\n"
            f"  <Stmt><Id>STMT-2026-05-04</Id><CreDtTm>2026-05-04T06:00:00</CreDtTm>"
            f"<Acct><Id><IBAN>{ACCOUNT_IBAN}</IBAN></Id><Ccy>{currency}</Ccy></Acct>\n    {body}\n  </Stmt>\n"
            f" </BkToCstmrStmt>\n</Document>\n").encode()


# ---------------------------------------------------------------------------- OFX
def ofx_v1(moves: tuple[Move, ...] = MOVES, currency: str = "EUR") -> bytes:
    lines = ["OFXHEADER:100", "DATA:OFXSGML", "VERSION:102", "SECURITY:NONE", "ENCODING:USASCII",
             "CHARSET:1252", "COMPRESSION:NONE", "OLDFILEUID:NONE", "NEWFILEUID:NONE", "", "<OFX>",
             "<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260504060000"
             "<LANGUAGE>FRA</SONRS></SIGNONMSGSRSV1>",
             "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS>",
             f"<CURDEF>{currency}<BANKACCTFROM><BANKID>{BANK}<BRANCHID>{BRANCH}<ACCTID>{ACCOUNT}"
             "<ACCTTYPE>CHECKING</BANKACCTFROM>",
             "<BANKTRANLIST><DTSTART>20260430<DTEND>20260504"]
    for m in moves:
        memo = " ".join(t for t in (m.text, m.rf) if t)
        lines.append(f"<STMTTRN><TRNTYPE>{'CREDIT' if m.amount > 0 else 'DEBIT'}"
                     f"<DTPOSTED>{m.booked:%Y%m%d}<DTUSER>{m.booked:%Y%m%d}<TRNAMT>{m.amount:.2f}"
                     f"<FITID>{m.ref}<NAME>{m.name[:32]}" + (f"<MEMO>{memo}" if memo else "") + "</STMTTRN>")
    lines += ["</BANKTRANLIST><LEDGERBAL><BALAMT>12345.67<DTASOF>20260504</LEDGERBAL>",
              "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>", ""]
    return "\r\n".join(lines).encode("ascii")


def ofx_v2(moves: tuple[Move, ...] = MOVES, currency: str = "EUR") -> bytes:
    trns = []
    for m in moves:
        memo = " ".join(t for t in (m.text, m.rf) if t)
        trns.append(f"<STMTTRN><TRNTYPE>{'CREDIT' if m.amount > 0 else 'DEBIT'}</TRNTYPE>"
                    f"<DTPOSTED>{m.booked:%Y%m%d}120000</DTPOSTED><TRNAMT>{m.amount:.2f}</TRNAMT>"
                    f"<FITID>{m.ref}</FITID><NAME>{escape(m.name[:32])}</NAME>"
                    + (f"<MEMO>{escape(memo)}</MEMO>" if memo else "") + "</STMTTRN>")
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
            "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
            "<DTSERVER>20260504060000</DTSERVER><LANGUAGE>FRA</LANGUAGE></SONRS></SIGNONMSGSRSV1>"
            "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
            f"<STMTRS><CURDEF>{currency}</CURDEF><BANKACCTFROM><BANKID>{BANK}</BANKID><BRANCHID>{BRANCH}</BRANCHID>"
            f"<ACCTID>{ACCOUNT}</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>"
            "<BANKTRANLIST><DTSTART>20260430</DTSTART><DTEND>20260504</DTEND>" + "".join(trns)
            + "</BANKTRANLIST><LEDGERBAL><BALAMT>12345.67</BALAMT><DTASOF>20260504</DTASOF></LEDGERBAL>"
            "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n").encode()


# ---------------------------------------------------------------------------- CFONB 120
_POS = "{ABCDEFGHI"
_NEG = "}JKLMNOPQR"


def cfonb_amount(value: Decimal) -> str:
    digits = f"{abs(value) * 100:014.0f}"
    code = (_POS if value >= 0 else _NEG)[int(digits[-1])]
    return digits[:-1] + code


def _record(code: str, day: dt.date, rest_33_34: str = "  ", middle: str = "", amount: str = "",
            tail: str = "") -> str:
    head = f"{code}{BANK}0000{BRANCH}EUR2 {ACCOUNT}{rest_33_34}{day:%d%m%y}"
    line = head + middle
    line = line.ljust(90) + amount.rjust(14 if amount else 0)
    return line.ljust(104) + tail.ljust(16) if tail or amount else line.ljust(120)


def _movement(m: Move) -> list[str]:
    middle = f"  {m.booked:%d%m%y}{m.text[:31] if m.text else m.name[:31]:<31}  0000001  "
    line = _record("04", m.booked, "05", middle, cfonb_amount(m.amount), m.ref[:16])
    out = [line]

    def complement(qualifier: str, text: str) -> str:
        value = f"{'':5}{qualifier}{text[:70]:<70}"
        return (f"05{BANK}0000{BRANCH}EUR2 {ACCOUNT}05{m.booked:%d%m%y}" + value).ljust(120)

    if m.name:
        out.append(complement("NPY", m.name))
    if m.iban:
        out.append(complement("IPY", m.iban))
    if m.text and m.name:
        out.append(complement("LIB", m.name if m.text[:31] == m.text else m.text[31:]))
    if m.rf:
        out.append(complement("RCN", m.rf))
    return out


def cfonb(moves: tuple[Move, ...] = MOVES) -> bytes:
    first = min(m.booked for m in moves)
    last = max(m.booked for m in moves)
    lines = [_record("01", first, "  ", "", cfonb_amount(Decimal("10000.00")))]
    for m in moves:
        lines += _movement(m)
    lines.append(_record("07", last, "  ", "", cfonb_amount(Decimal("12345.67"))))
    assert all(len(x) == 120 for x in lines), [len(x) for x in lines]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def write_samples(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "releve.xml").write_bytes(camt())
    (folder / "releve.ofx").write_bytes(ofx_v1())
    (folder / "releve.txt").write_bytes(cfonb())


if __name__ == "__main__":
    write_samples(Path(__file__).resolve().parents[2] / "events" / "statements")
