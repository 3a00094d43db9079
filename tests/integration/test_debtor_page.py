"""The debtor's page (functions/debtor_page) with API Gateway proxy events, on the embedded AWS.

A courtesy reminder is dispatched through the real DispatchFunction; its email carries the link; the tests
follow it like the debtor's phone would.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from test_escalation_support import at, dispatch, fresh, function_env, mails, text_of, topic_messages

from relance import runtime
from relance_dev.embedded import EmbeddedAws
from relance_dev.simulate.runner import debtor_event

COURTESY = dt.date(2026, 4, 9)        # courtesy step of an invoice due 2026-04-16 (policies/standard.yaml)
DAY = dt.date(2026, 4, 24)
LINK = re.compile(r"https://\S+/p/[A-Za-z0-9_-]{32}\?sig=[0-9]+\.[A-Za-z0-9_-]{43}")


def _seed(aws: EmbeddedAws) -> str:
    """Two customers, C1 with two invoices, C2 with one; C1's courtesy email; returns its link."""
    fresh(aws)
    with function_env(aws, "DispatchFunction") as services:
        ledger = services.ledger
        for cid, name in (("C1", "Boulangerie Exemple SARL"), ("C2", "Garage Martin SAS")):
            ledger.upsert_customer({"id": cid, "name": name, "kind": "b2b",
                                    "email": f"compta@{cid.lower()}.example"})
        for iid, cid, amount in (("A1", "C1", "1800.00"), ("A2", "C1", "600.00"), ("B1", "C2", "900.00")):
            key = f"invoices/{iid}.pdf" if iid in ("A1", "B1") else None
            if key:
                runtime.client("s3").put_object(Bucket=aws.resources["LettersBucket"], Key=key,
                                                Body=b"%PDF-1.4 " + iid.encode())
            ledger.create_invoice({"id": iid, "customer": cid, "issued": "2026-03-17", "due": "2026-04-16",
                                   "amount": amount}, dt.date(2026, 3, 17), attachment_key=key)
    dispatch(aws, "C1", COURTESY)
    (message,) = mails(aws, "compta@c1.example")
    match = LINK.search(text_of(message))
    assert match is not None, text_of(message)
    html = message.get_body(("html",)).get_content()   # type: ignore[attr-defined]
    assert match.group(0).replace("&", "&amp;") in html or match.group(0) in html
    return match.group(0)


@pytest.fixture
def link(embedded: EmbeddedAws) -> str:
    return _seed(embedded)


def follow(aws: EmbeddedAws, method: str, url: str, form: list[tuple[str, str]] | None = None,
           day: dt.date = DAY, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = debtor_event(method, url, form, at(day))
    event["headers"].update(headers or {})
    result: dict[str, Any] = aws.invoke("DebtorPageFunction", event)
    return result


def _sig(url: str) -> str:
    return url.split("sig=")[1]


def _history(aws: EmbeddedAws, invoice: str) -> list[dict[str, Any]]:
    with function_env(aws, "DispatchFunction") as services:
        return services.ledger.history(invoice)


def _kinds(aws: EmbeddedAws, invoice: str) -> list[str]:
    return [e["kind"] for e in _history(aws, invoice)]


def test_the_link_names_no_customer_and_get_changes_nothing(embedded: EmbeddedAws, link: str) -> None:
    # Given the link of C1's courtesy email: it names neither the customer nor an invoice
    assert "C1" not in link.split("/p/")[1] and "A1" not in link
    # And the history of C1's invoices so far
    before = {i: _kinds(embedded, i) for i in ("A1", "A2")}
    # When the link is opened three times (a mail scanner, a preview, the person)
    for _ in range(3):                      # a mail scanner, a preview, the person
        page = follow(embedded, "GET", link)
        # Then each time the page shows
        assert page["statusCode"] == 200
    # And it shows C1's invoices only, their total, the QR code and the three answers
    html = page["body"]
    assert "Boulangerie Exemple SARL" in html and "A1" in html and "A2" in html and "B1" not in html
    assert "2\u202f400,00\u00a0€" in html or "2 400,00" in html.replace("\u202f", " ").replace("\u00a0", " ")
    assert "data:image/png;base64," in html            # the EPC QR code
    assert 'value="paid"' in html and 'value="promise"' in html and 'value="dispute"' in html
    # And it cannot be cached and allows only inline images
    assert page["headers"]["Cache-Control"] == "no-store"
    assert "img-src data:" in page["headers"]["Content-Security-Policy"]
    # And nothing was recorded and the team was told nothing
    assert {i: _kinds(embedded, i) for i in ("A1", "A2")} == before
    assert not [m for m in topic_messages(embedded) if "Réponse du client" in m]


def test_paid_pauses_each_invoice_tells_the_team_and_counts_once(embedded: EmbeddedAws, link: str) -> None:
    # Given the link of C1's courtesy email; When the debtor answers both invoices were paid on 22 April
    form = [("sig", _sig(link)), ("answer", "paid"), ("invoice", "A1"), ("invoice", "A2"),
            ("paid_on", "2026-04-22"), ("reference", "VIR 22/04")]
    first = follow(embedded, "POST", link, form)
    # Then the page thanks them and says when the reminders resume
    assert first["statusCode"] == 200 and "mai 2026" in first["body"].replace("\u00a0", " ")
    # When the answer is posted again
    again = follow(embedded, "POST", link, form)        # a double click
    # Then it is already recorded
    assert again["statusCode"] == 200 and "Déjà enregistré" in again["body"]
    # And each invoice has one reply and one pause, a week after the payment date
    for invoice in ("A1", "A2"):
        history = _history(embedded, invoice)
        replies = [e for e in history if e["kind"] == "debtor_reply"]
        assert len(replies) == 1 and replies[0]["details"]["answer"] == "paid"
        assert replies[0]["details"]["paid_on"] == "2026-04-22"
        paused = [e for e in history if e["kind"] == "paused"]
        assert len(paused) == 1 and "until 2026-05-01" in paused[0]["details"]["reason"]
    # And the ladder resumes after the pause
    with function_env(embedded, "DispatchFunction") as services:
        record = services.ledger.invoice("A1")
        assert record.promise_until == dt.date(2026, 5, 1)
        assert record.next_action is not None and record.next_action > dt.date(2026, 5, 1)
    # And the team gets one task with the reference and the date
    tasks = [m for m in topic_messages(embedded) if "Réponse du client" in m]
    assert len(tasks) == 1 and "VIR 22/04" in tasks[0] and "2026-05-01" in tasks[0]
    # And the other customer's invoice has no reply
    assert _kinds(embedded, "B1").count("debtor_reply") == 0


def test_promise_within_the_limit_and_beyond(embedded: EmbeddedAws, link: str) -> None:
    # Given the link of C1's courtesy email; When the debtor promises to pay A1 by 15 May
    near = follow(embedded, "POST", link, [("sig", _sig(link)), ("answer", "promise"), ("invoice", "A1"),
                                           ("until", "2026-05-15")])
    # Then the promise is recorded on A1 only
    assert near["statusCode"] == 200
    with function_env(embedded, "DispatchFunction") as services:
        assert services.ledger.invoice("A1").promise_until == dt.date(2026, 5, 15)
        assert services.ledger.invoice("A2").promise_until is None       # not ticked
    # When the debtor asks until 30 June for A2, beyond the limit
    far = follow(embedded, "POST", link, [("sig", _sig(link)), ("answer", "promise"), ("invoice", "A2"),
                                          ("until", "2026-06-30")])
    # Then the page says the request was passed on
    assert far["statusCode"] == 200 and "transmise" in far["body"]
    # And A2 has no promise, only the request in its history
    with function_env(embedded, "DispatchFunction") as services:
        assert services.ledger.invoice("A2").promise_until is None
    (reply,) = [e for e in _history(embedded, "A2") if e["kind"] == "debtor_reply"]
    assert reply["details"]["outcome"] == "request"
    # And the team gets one task to decide on the delay
    tasks = [m for m in topic_messages(embedded) if "Réponse du client" in m]
    assert len(tasks) == 1 and "délai à accorder" in tasks[0]


def test_dispute_needs_a_reason_and_opens_a_dispute(embedded: EmbeddedAws, link: str) -> None:
    # Given the link of C1's courtesy email; When the debtor disputes A1 without a reason
    empty = follow(embedded, "POST", link, [("sig", _sig(link)), ("answer", "dispute"), ("invoice", "A1")])
    # Then it is refused
    assert empty["statusCode"] == 400
    # When the debtor gives a reason
    reply = follow(embedded, "POST", link, [("sig", _sig(link)), ("answer", "dispute"), ("invoice", "A1"),
                                            ("reason", "Quantités fausses")])
    # Then A1 is disputed, A2 not
    assert reply["statusCode"] == 200
    with function_env(embedded, "DispatchFunction") as services:
        assert services.ledger.invoice("A1").disputed and not services.ledger.invoice("A2").disputed
    # And the team gets the reason
    assert any("Quantités fausses" in m for m in topic_messages(embedded))


def test_bad_input_is_refused_and_decides_nothing(embedded: EmbeddedAws, link: str) -> None:
    # Given the link of C1's courtesy email
    sig = _sig(link)
    # When the debtor posts another customer's invoice, none, a future payment, a past promise or an unknown answer
    for form in ([("sig", sig), ("answer", "paid"), ("invoice", "B1")],           # another customer's invoice
                 [("sig", sig), ("answer", "paid")],                              # nothing ticked
                 [("sig", sig), ("answer", "paid"), ("invoice", "A1"), ("paid_on", "2026-05-30")],   # future
                 [("sig", sig), ("answer", "promise"), ("invoice", "A1"), ("until", "2026-04-01")],  # past
                 [("sig", sig), ("answer", "maybe"), ("invoice", "A1")]):
        # Then each is refused
        assert follow(embedded, "POST", link, form)["statusCode"] == 400, form
    # When a right answer is posted from another site
    evil = follow(embedded, "POST", link, [("sig", sig), ("answer", "paid"), ("invoice", "A1")],
                  headers={"Origin": "https://evil.example"})
    # Then it is refused
    assert evil["statusCode"] == 403
    # And no reply is recorded
    for invoice in ("A1", "A2", "B1"):
        assert "debtor_reply" not in _kinds(embedded, invoice)


def test_forged_expired_and_unknown_links_get_403_with_no_data(embedded: EmbeddedAws, link: str) -> None:
    # Given the link of C1's courtesy email, forged in its signature, its expiry or its id, or without a signature
    base, sig = link.split("?sig=")
    expires, mac = sig.split(".")
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    other_id = base[:-1] + ("x" if base[-1] != "x" else "y")
    # When each is opened or posted to
    for url in (f"{base}?sig={expires}.{flipped}", f"{base}?sig={int(expires) + 86400}.{mac}", f"{base}?sig=",
                base, f"{other_id}?sig={sig}"):
        for method, form in (("GET", None), ("POST", [("sig", url.split("sig=")[1] if "sig=" in url else ""),
                                                       ("answer", "paid"), ("invoice", "A1")])):
            reply = follow(embedded, method, url, form)
            # Then it is refused with a plain page naming no customer nor invoice
            assert reply["statusCode"] == 403, (method, url)
            body = reply["body"]
            assert "Lien invalide" in body and "Boulangerie" not in body and "A1" not in body
            assert "Traceback" not in body
    # When the real link is opened after it expired
    expired_day = dt.date.fromtimestamp(int(expires)) + dt.timedelta(days=1)
    late = follow(embedded, "GET", link, day=expired_day)
    # Then it is refused too, naming no customer
    assert late["statusCode"] == 403 and "Boulangerie" not in late["body"]
    # And no reply is recorded
    assert "debtor_reply" not in _kinds(embedded, "A1")


def test_a_link_takes_a_few_answers_a_day(embedded: EmbeddedAws, link: str) -> None:
    # Given the link of C1's courtesy email; When the debtor answers seven times on one day
    sig = _sig(link)
    statuses = [follow(embedded, "POST", link, [("sig", sig), ("answer", "paid"), ("invoice", "A1"),
                                                ("reference", f"try {n}")])["statusCode"] for n in range(7)]
    # Then the first five are recorded, the rest refused as too many
    assert statuses == [200] * 5 + [429] * 2
    assert _kinds(embedded, "A1").count("debtor_reply") == 5
    # When the debtor answers the next day
    next_day = follow(embedded, "POST", link, [("sig", sig), ("answer", "paid"), ("invoice", "A1"),
                                               ("reference", "next day")], day=DAY + dt.timedelta(days=1))
    # Then it is taken
    assert next_day["statusCode"] == 200


def test_the_original_pdf_of_the_customers_own_invoices_only(embedded: EmbeddedAws, link: str) -> None:
    import base64

    # Given the link of C1's courtesy email, C1's invoice A1 with its PDF stored, A2 without; When the page is opened
    page = follow(embedded, "GET", link)["body"]
    # Then it links to A1's PDF only
    assert "pdf=A1" in page and "pdf=A2" not in page          # A2 has no stored PDF
    # When A1's PDF is asked for
    pdf = follow(embedded, "GET", f"{link}&pdf=A1")
    # Then the original PDF is returned
    assert pdf["statusCode"] == 200 and pdf["headers"]["Content-Type"] == "application/pdf"
    assert pdf["isBase64Encoded"] and base64.b64decode(pdf["body"]) == b"%PDF-1.4 A1"
    # And another customer's, A2's or an unknown invoice's PDF is not found
    for other in ("B1", "A2", "nope"):
        reply = follow(embedded, "GET", f"{link}&pdf={other}")
        assert reply["statusCode"] == 404 and "PDF" not in reply["headers"]["Content-Type"].upper()
