"""CSV import of customers and invoices, as exported by French spreadsheets and accounting software.

One row = one invoice and its customer. The first row names the columns, in French or English, in any
order (case, accents, spaces, ``-`` and ``_`` do not matter):

=================  ==================================================================  ==========
field              accepted headers                                                    required
=================  ==================================================================  ==========
customer id        client, code_client, id_client, customer, customer_id               yes
customer name      nom, nom_client, raison_sociale, name, customer_name                new customer
customer kind      type, type_client, kind, customer_kind (b2b|b2c|public, or          new customer
                   entreprise/professionnel, particulier, administration)
email              email, e-mail, courriel, mail                                       no
phone              telephone, tel, portable, mobile, phone                             no
address            adresse, address                                                    no
SIREN              siren                                                               no
language           langue, language (fr|en)                                            no
segment            segment                                                             no
policy             politique, policy                                                   no
invoice number     facture, numero_facture, no_facture, n_facture, invoice,            yes
                   invoice_id, invoice_number
issue date         date_facture, date_emission, emission, issued, issue_date,          yes
                   invoice_date
due date           echeance, date_echeance, due, due_date                              yes
amount (TTC, EUR)  montant_ttc, montant, total_ttc, amount, amount_ttc, total          yes
delivery date      date_livraison, livraison, delivered, delivery_date                 no
=================  ==================================================================  ==========

Formats: ``;`` or ``,`` (or tab) separated (sniffed from the header row); UTF-8 with or without BOM, or
Windows-1252; dates ``dd/mm/yyyy`` (also ``dd-mm-yyyy``, ``dd.mm.yyyy``) or ISO ``yyyy-mm-dd``; amounts
``1200.50``, ``1200,50`` or ``1 200,50`` (normal, non-breaking or narrow spaces between thousands), with
an optional ``€``. An amount with both a comma and a dot (``1,200.00``), or a separator followed by three
digits (``1,200``, ``1.200``), is ambiguous and refused.

All or nothing: every row is validated before anything is written; one refused row refuses the whole
file (every refused row is reported with its line), so a file is never half-taken. An identical row
changes nothing (re-importing a file is a no-op). An empty cell means "not given": it never erases a
stored value. A UTF-8 file with a stray byte is refused with its line, never re-read as Windows-1252.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from relance.errors import RelanceError, ValidationError
from relance.ledger import Ledger
from relance.models import Customer, Invoice, describe_pydantic_error
from relance.money import parse_amount
from relance.store import invoice_from_item

MAX_BYTES = 20 * 1024 * 1024
# Sized to finish within ImportFunction's 300 s timeout with a 3x margin (docs/hardening.md, issue 14.7):
# ~35 DynamoDB calls per 600 rows (batched) and ~800 rows/s of validation; 20,000 rows take ~100 s.
MAX_ROWS = 20_000

CUSTOMER_FIELDS = ("id", "name", "kind", "email", "phone", "address", "siren", "language", "segment", "policy")
INVOICE_FIELDS = ("invoice", "issued", "due", "amount", "delivered")

_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("client", "code_client", "id_client", "customer", "customer_id", "client_id"),
    "name": ("nom", "nom_client", "raison_sociale", "name", "customer_name", "client_name"),
    "kind": ("type", "type_client", "kind", "customer_kind"),
    "email": ("email", "e_mail", "courriel", "mail", "adresse_email"),
    "phone": ("telephone", "tel", "portable", "mobile", "phone"),
    "address": ("adresse", "address", "adresse_postale"),
    "siren": ("siren",),
    "language": ("langue", "language", "lang"),
    "segment": ("segment",),
    "policy": ("politique", "policy"),
    "invoice": ("facture", "numero_facture", "no_facture", "n_facture", "num_facture", "invoice",
                "invoice_id", "invoice_number", "invoice_no"),
    "issued": ("date_facture", "date_emission", "emission", "issued", "issue_date", "invoice_date"),
    "due": ("echeance", "date_echeance", "due", "due_date"),
    "amount": ("montant_ttc", "montant", "total_ttc", "amount", "amount_ttc", "total"),
    "delivered": ("date_livraison", "livraison", "delivered", "delivery_date"),
}
_HEADER_TO_FIELD = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
REQUIRED_COLUMNS = ("id", "invoice", "issued", "due", "amount")

_KINDS = {
    "b2b": "b2b", "entreprise": "b2b", "professionnel": "b2b", "pro": "b2b", "business": "b2b",
    "societe": "b2b", "company": "b2b",
    "b2c": "b2c", "particulier": "b2c", "consommateur": "b2c", "consumer": "b2c", "individual": "b2c",
    "public": "public", "administration": "public", "collectivite": "public", "b2g": "public",
}
# Spaces a spreadsheet may put between thousands: normal, no-break, narrow no-break, thin.
_GROUP_SPACES = " \u00a0\u202f\u2009"
_FR_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$", re.ASCII)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)


# ---------------------------------------------------------------------------- report
@dataclass(frozen=True)
class RowError:
    """A refused row: its line in the file, the column at fault (if one) and why."""

    line: int
    reason: str
    field: str | None = None
    record: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.field:
            where += f", column {self.field!r}"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    source: str = "<csv>"
    dry_run: bool = False
    rows: int = 0
    customers: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    invoices: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0})
    errors: list[RowError] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        """Invoices created (the number a second import of the same file brings to 0)."""
        return self.invoices["created"]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "dry_run": self.dry_run, "ok": self.ok, "rows": self.rows,
            "customers": dict(self.customers), "invoices": dict(self.invoices),
            "errors": [{"line": e.line, "field": e.field, "record": e.record, "reason": e.reason}
                       for e in self.errors],
            "lines": self.lines,
        }

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        inv, cus = self.invoices, self.customers
        return (f"{self.source}: {self.rows} rows; invoices {verb} created {inv['created']}, updated "
                f"{inv['updated']}, unchanged {inv['unchanged']}; customers created {cus['created']}, updated "
                f"{cus['updated']}, unchanged {cus['unchanged']}; {len(self.errors)} refused")

    def to_text(self) -> str:
        out = [self.summary()]
        out += [f"{self.source}:{e.line}: {e.reason}" + (f" (column {e.field})" if e.field else "")
                for e in self.errors]
        return "\n".join(out)

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";")
        writer.writerow(["line", "result", "record", "field", "reason"])
        for entry in self.lines:
            writer.writerow([entry["line"], entry["result"], entry.get("record") or "", entry.get("field") or "",
                             entry.get("reason") or ""])
        return buf.getvalue()


class FileError(RelanceError):
    """The file as a whole cannot be read (encoding, header, size)."""


# ---------------------------------------------------------------------------- parsing helpers
def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), else Windows-1252; anything else is refused.

    A file that is UTF-8 but for a stray byte (its accented letters are valid UTF-8) is refused with the
    line of that byte: re-reading it as Windows-1252 would turn every "é" into "Ã©" and rewrite the
    stored names.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        lenient = data.decode("utf-8", errors="replace")
        if any(ord(ch) > 0x7F and ch != "\ufffd" for ch in lenient):
            line = data[:exc.start].count(b"\n") + 1
            raise FileError(f"byte 0x{data[exc.start]:02X} is not UTF-8 while the rest of the file is: "
                            "fix that character (or save the file again as UTF-8); nothing imported",
                            f"line {line}") from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise FileError("the file is neither UTF-8 nor Windows-1252 text", "line 1") from None


def sniff_delimiter(header_line: str) -> str:
    """``;`` (French exports), ``,`` or tab: whichever separates the header row (quotes respected)."""
    counts = dict.fromkeys(";,\t", 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda c: (counts[c], c == ";"))
    return best if counts[best] else ";"


def normalize_header(text: str) -> str:
    """``Échéance`` -> ``echeance``, ``N° facture`` -> ``n_facture``, ``E-mail`` -> ``e_mail``."""
    folded = unicodedata.normalize("NFKD", text.strip().lower().replace("°", ""))
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", ascii_only).strip("_")


def parse_csv_amount(text: str) -> Decimal:
    """A French or plain amount (``1 200,50``, ``1200.50``, ``1200,5 €``) as Decimal; ambiguity is refused."""
    value = text.strip().removesuffix("€").removesuffix("EUR").strip()
    if any(ch.isdigit() and not ch.isascii() for ch in value):
        raise ValueError(f"amount {text!r} must be written with ASCII digits 0-9")
    if "," in value and "." in value:
        raise ValueError(f"ambiguous amount {text!r}: write 1200.00, 1200,00 or 1 200,00 "
                         "(not both a comma and a dot)")
    if re.search(r"[^\d.,\-" + _GROUP_SPACES + "]", value):
        raise ValueError(f"{text!r} is not an amount (e.g. 1 200,50 or 1200.50)")
    if any(s in value for s in _GROUP_SPACES):
        if not re.fullmatch(r"\d{1,3}([" + _GROUP_SPACES + r"]\d{3})+([.,]\d{1,2})?", value):
            raise ValueError(f"amount {text!r}: spaces may only separate groups of three digits (1 200,50)")
        value = "".join(c for c in value if c not in _GROUP_SPACES)
    match = re.fullmatch(r"(-?\d+)([.,])(\d+)", value)
    if match:
        if len(match.group(3)) > 2:
            raise ValueError(f"ambiguous amount {text!r}: is {match.group(2)!r} a thousands separator? "
                             "write 1200.00 or 1 200,00")
        value = f"{match.group(1)}.{match.group(3)}"
    if not re.fullmatch(r"-?\d+(\.\d+)?", value):
        raise ValueError(f"{text!r} is not an amount (e.g. 1 200,50 or 1200.50)")
    try:
        return parse_amount(value)
    except ValidationError as exc:
        raise ValueError(exc.message.replace(repr(value), repr(text))) from None


def parse_csv_date(text: str) -> dt.date:
    """``31/03/2026`` (day first, as in France), ``31-03-2026``, ``31.03.2026`` or ``2026-03-31``."""
    value = text.strip()
    if m := _FR_DATE.match(value):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _ISO_DATE.match(value):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        raise ValueError(f"{text!r} is not a date (dd/mm/yyyy or yyyy-mm-dd)")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a real calendar date") from None


def parse_kind(text: str) -> str:
    kind = _KINDS.get(normalize_header(text))
    if kind is None:
        raise ValueError(f"unknown customer type {text!r} (b2b/entreprise, b2c/particulier, public)")
    return kind


# ---------------------------------------------------------------------------- reading rows
@dataclass(frozen=True)
class Row:
    line: int
    values: Mapping[str, str]


def read_rows(data: bytes) -> tuple[list[str], Iterator[Row]]:
    """The header's fields and an iterator over the non-empty rows (line = first physical line of the row)."""
    if len(data) > MAX_BYTES:
        raise FileError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it", "line 1")
    text = decode(data)
    if not text.strip():
        raise FileError("the file is empty", "line 1")
    first_line = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    header = next(reader)
    columns: list[str] = []
    for position, name in enumerate(header, start=1):
        key = normalize_header(name)
        target = _HEADER_TO_FIELD.get(key)
        if target is None:
            if not key:
                raise FileError(f"column {position} has no name", "line 1")
            raise FileError(f"unknown column {name.strip()!r} (accepted: {', '.join(sorted(_HEADER_TO_FIELD))})",
                            "line 1")
        if target in columns:
            raise FileError(f"column {name.strip()!r} names the {target} a second time", "line 1")
        columns.append(target)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        wanted = " / ".join(_ALIASES[missing[0]][:2])
        raise FileError(f"missing column for {missing[0]} (e.g. {wanted})", "line 1")

    def rows() -> Iterator[Row]:
        previous_end = reader.line_num
        count = 0
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            count += 1
            if count > MAX_ROWS:
                raise FileError(f"more than {MAX_ROWS} rows; split the file", f"line {start}")
            if len(cells) != len(columns):
                yield Row(start, {"__error__": f"{len(cells)} cells, the header has {len(columns)}"})
                continue
            yield Row(start, {col: cell.strip() for col, cell in zip(columns, cells, strict=True)})

    return columns, rows()


# ---------------------------------------------------------------------------- import
@dataclass(frozen=True)
class _Planned:
    customer: Customer
    customer_action: str           # created | updated | unchanged
    invoice: Invoice
    invoice_action: str            # created | updated | unchanged
    invoice_changes: Mapping[str, Any]


class _RowRefused(Exception):
    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column


def _convert(row: Row) -> tuple[dict[str, Any], dict[str, Any]]:
    """Cells -> (customer fields, invoice fields); a cell that does not parse names its column."""
    customer: dict[str, Any] = {}
    invoice: dict[str, Any] = {}
    for column, cell in row.values.items():
        if cell == "":
            continue
        try:
            if column in ("issued", "due", "delivered"):
                invoice[column] = parse_csv_date(cell)
            elif column == "amount":
                invoice[column] = parse_csv_amount(cell)
            elif column == "invoice":
                invoice["id"] = cell
            elif column == "kind":
                customer[column] = parse_kind(cell)
            else:
                customer[column] = cell
        except ValueError as exc:
            raise _RowRefused(str(exc), column) from None
    for column in REQUIRED_COLUMNS:
        if not row.values.get(column):
            raise _RowRefused("empty cell", column)
    invoice["customer"] = customer["id"]
    return customer, invoice


def _validate(model: type[Customer] | type[Invoice], data: Mapping[str, Any], columns: Mapping[str, str]
              ) -> Any:
    import pydantic

    try:
        return model.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        column = str(first["loc"][0]) if first["loc"] else ("due" if model is Invoice else None)
        raise _RowRefused(describe_pydantic_error(exc), columns.get(column or "", column)) from None


_INVOICE_COLUMNS = {"id": "invoice", "customer": "id"}


class _Session:
    """State across the rows of one file: what the file already said about each customer and invoice."""

    def __init__(self, ledger: Ledger, today: dt.date) -> None:
        self.ledger = ledger
        self.today = today
        self.customers: dict[str, tuple[int, dict[str, Any]]] = {}   # id -> (line, merged fields)
        self.invoices: dict[str, int] = {}                             # id -> line
        self._prefetched = False
        self._stored_customers: dict[str, dict[str, Any]] = {}
        self._stored_invoices: dict[str, Any] = {}

    def plan(self, row: Row) -> _Planned:
        if "__error__" in row.values:
            raise _RowRefused(row.values["__error__"])
        given_customer, given_invoice = _convert(row)
        cid, iid = given_customer["id"], given_invoice["id"]
        if iid in self.invoices:
            raise _RowRefused(f"invoice {iid} is already on line {self.invoices[iid]}", "invoice")

        # The customer: stored fields, then what this file says (an empty cell keeps the stored value).
        if cid in self.customers:
            first_line, known = self.customers[cid]
            customer = _validate(Customer, {**known, **given_customer}, {})
            dumped = customer.model_dump(mode="json", exclude_none=True)
            conflicts = sorted(k for k in dumped.keys() | known.keys() if dumped.get(k) != known.get(k))
            if conflicts:
                raise _RowRefused(f"customer {cid}: {conflicts[0]} differs from line {first_line}", conflicts[0])
            customer_action = "unchanged"
        else:
            stored = self.stored_customer(cid) or {}
            customer = _validate(Customer, {**stored, **given_customer}, {})
            dumped = customer.model_dump(mode="json", exclude_none=True)
            customer_action = "created" if not stored else ("unchanged" if dumped == stored else "updated")
        try:
            self.ledger.policy_for(customer)
        except ValidationError as exc:
            raise _RowRefused(exc.message, "policy") from None

        # The invoice: new, identical (no-op) or corrected.
        existing = self.stored_invoice(iid)
        changes: dict[str, Any] = {}
        if existing is None:
            invoice = _validate(Invoice, given_invoice, _INVOICE_COLUMNS)
            invoice_action = "created"
        else:
            if existing.customer_id != cid:
                raise _RowRefused(f"invoice {iid} belongs to customer {existing.customer_id}, not {cid}", "id")
            merged_invoice = {**{k: v for k, v in existing.raw.items() if k != "balance"}, **given_invoice}
            invoice = _validate(Invoice, merged_invoice, _INVOICE_COLUMNS)
            current = _validate(Invoice, {k: v for k, v in existing.raw.items() if k != "balance"}, {})
            changes = {k: getattr(invoice, k) for k in ("issued", "due", "amount", "delivered")
                       if getattr(invoice, k) != getattr(current, k)}
            if changes and existing.status != "open":
                raise _RowRefused(f"invoice {iid} is {existing.status}; its {', '.join(changes)} cannot change",
                                  next(iter(changes)))
            paid = sum((a for _, a in existing.payments), Decimal(0))
            if "amount" in changes and invoice.amount < paid:
                raise _RowRefused(f"amount {invoice.amount} is less than the {paid} already paid", "amount")
            invoice_action = "updated" if changes else "unchanged"
        if cid not in self.customers:
            self.customers[cid] = (row.line, dumped)
        self.invoices[iid] = row.line
        return _Planned(customer, customer_action, invoice, invoice_action,
                        {k: (v.isoformat() if isinstance(v, dt.date) else str(v)) for k, v in changes.items()})

    def prefetch(self, rows: list[Row]) -> None:
        """Read the stored customers and invoices of the whole file in batches (BatchGetItem)."""
        customer_ids = [r.values["id"] for r in rows if r.values.get("id")]
        invoice_ids = list(dict.fromkeys(r.values["invoice"] for r in rows if r.values.get("invoice")))
        self._stored_customers = self.ledger.store.get_customers_raw(customer_ids)
        self._stored_invoices = {iid: invoice_from_item(item)
                                 for iid, item in self.ledger.store.get_invoice_items(invoice_ids).items()}
        self._prefetched = True

    def stored_customer(self, cid: str) -> dict[str, Any] | None:
        if self._prefetched:
            return self._stored_customers.get(cid)
        return self.ledger.store.get_customer_raw(cid)

    def stored_invoice(self, iid: str) -> Any:
        if self._prefetched:
            return self._stored_invoices.get(iid)
        return self.ledger.store.get_invoice(iid)

    def apply_all(self, planned: list[_Planned]) -> list[tuple[str, str]]:
        """Write every planned row in batches; returns (invoice id, reason) of invoices created meanwhile."""
        customers = {p.customer.id: p.customer for p in planned if p.customer_action != "unchanged"}
        self.ledger.store.put_customers([c.model_dump(mode="json", exclude_none=True) for c in customers.values()])
        existed = self.ledger.create_invoices([(p.invoice, p.customer) for p in planned
                                               if p.invoice_action == "created"], self.today)
        for p in planned:
            if p.invoice_action == "updated":
                self.ledger.update_invoice(p.invoice.id, self.today, p.invoice_changes)
        return [(iid, f"invoice {iid} was created by someone else during this import; import again")
                for iid in existed]


def import_csv(data: bytes, ledger: Ledger, today: dt.date, dry_run: bool = False,
               source: str = "<csv>") -> ImportReport:
    """Import customers and invoices from a CSV file; see the module docstring for the format.

    All or nothing: every row is read and validated first (a file over MAX_ROWS, an encoding error or a
    bad header is refused before anything is read from the table); if any row is refused, nothing is
    written and the report lists every refused row with its line, column and reason. Otherwise the
    rows are written in batches (BatchWriteItem for customers, 33 invoices per conditional transaction).
    """
    report = ImportReport(source=source, dry_run=dry_run)
    try:
        _, row_iter = read_rows(data)
        rows = list(row_iter)                        # the row limit is checked here, before any write
        session = _Session(ledger, today)
        session.prefetch(rows)
        planned_rows: list[tuple[Row, _Planned]] = []
        for row in rows:
            report.rows += 1
            try:
                planned_rows.append((row, session.plan(row)))
            except _RowRefused as refused:
                _refuse(report, RowError(row.line, refused.reason, refused.column, row.values.get("invoice")))
            except RelanceError as exc:  # a ledger check (policy...) raised while planning
                _refuse(report, RowError(row.line, exc.message, _column_of(exc), row.values.get("invoice")))
        if report.errors:
            return report                            # one refused row refuses the file: nothing written
        if not dry_run:
            for invoice_id, error in session.apply_all([p for _, p in planned_rows]):
                _refuse(report, RowError(next(r.line for r, p in planned_rows if p.invoice.id == invoice_id), error,
                                         "invoice", invoice_id))
        for row, planned in planned_rows:
            report.customers[planned.customer_action] += 1
            report.invoices[planned.invoice_action] += 1
            report.lines.append({"line": row.line, "result": planned.invoice_action,
                                 "record": planned.invoice.id})
    except FileError as exc:
        line = int(exc.where.removeprefix("line ")) if exc.where and exc.where.startswith("line ") else 1
        _refuse(report, RowError(line, exc.message))
    return report


def _refuse(report: ImportReport, error: RowError) -> None:
    report.errors.append(error)
    report.lines.append({"line": error.line, "result": "refused", "record": error.record, "field": error.field,
                         "reason": error.reason})


def _column_of(exc: RelanceError) -> str | None:
    match = re.search(r"field '([a-z_]+)'", exc.where or "")
    if not match:
        return None
    name = match.group(1)
    return {"customer": "id"}.get(name, name)
