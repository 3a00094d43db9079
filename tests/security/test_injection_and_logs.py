"""Email header injection is impossible, and the logs of a season carry no personal data."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import io
import logging
import re
from collections.abc import Iterator

import pytest
from faults_support import Season, seed

from relance import runtime
from relance.adapters.aws.services import SesMailer
from relance.channels import OutgoingMessage, SesEmailChannel
from relance.store import quarantine_items
from relance_dev import faults
from relance_dev.embedded import EmbeddedAws
from relance_dev.simulate.driver import SeasonDriver

VICTIM = "victim@evil.example"


def _raw_messages(aws: EmbeddedAws) -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][aws.region].sent_messages
            if getattr(m, "raw_data", None)]


def _assert_single_recipient(raw: str, to: str) -> None:
    mime = email.message_from_string(raw, policy=email.policy.default)
    assert mime.get_all("Bcc") is None and mime.get_all("Cc") is None
    assert len(mime.get_all("To")) == 1 and len(mime.get_all("Subject")) == 1
    addresses = mime["To"].addresses
    assert [a.addr_spec for a in addresses] == [to]
    assert [a.addr_spec for a in mime["From"].addresses] == ["relances@menuiserie.example"]
    for line in raw.split("\n\n", 1)[0].splitlines():
        assert not re.match(r"(?i)(bcc|cc|resent-\w+)\s*:", line), line


@pytest.mark.parametrize("name", [f"Evil\r\nBcc: {VICTIM}", f"Evil\nBcc: {VICTIM}", f"Evil\u2028Bcc: {VICTIM}",
                                  f"Evil\x85Bcc: {VICTIM}", f'"Evil" <{VICTIM}>, x', f"Evil\rBcc:{VICTIM}"])
def test_a_name_or_subject_cannot_add_a_recipient(embedded: EmbeddedAws, name: str) -> None:
    runtime.reset_clients()
    channel = SesEmailChannel(SesMailer(embedded.client("sesv2")), "relances@menuiserie.example", f"Menuiserie{name}",
                              "compta@menuiserie.example")
    message = OutgoingMessage(step=f"due\r\nBcc: {VICTIM}", customer_id="C1", customer_name=name,
                              invoice_ids=("A1",), run_date=dt.date(2026, 4, 16),
                              subject=f"Relance {name}\r\nBcc: {VICTIM}", text="Bonjour", email="c@client.example")
    channel.send(message)
    (raw,) = _raw_messages(embedded)
    _assert_single_recipient(raw, "c@client.example")


def test_a_stored_name_with_a_line_separator_is_quarantined_not_sent(
        driver: SeasonDriver, embedded: EmbeddedAws) -> None:
    # CR/LF/U+2028 are refused on the way in; one stored before (legacy data) must not break a header nor
    # make every send to that customer fail.
    store = driver.store()
    seed(driver, {"id": "C9", "name": "Client", "kind": "b2b", "email": "c@client.example"}, invoices=("Z1",))
    store.set_customer_fields("C9", name=f"Evil\u2028Bcc: {VICTIM}")
    Season(driver).day(dt.date(2026, 4, 9))
    assert _raw_messages(embedded) == [] and driver.invocation_errors == []
    (item,) = quarantine_items(store, [("customer", "C9")])
    assert "control characters" in item["reason"]


PERSONAL = ("compta@boulangerie.example", "+33612345678", "06 12 34 56 78", "4 rue des Lilas",
            "jean@exemple.example", "FR7630006000011234567890189", "FR76 3000 6000 0112 3456 7890 189")


@contextlib.contextmanager
def relance_log_lines() -> Iterator[io.StringIO]:
    """What the handlers' logger writes, whichever earlier test first configured it.

    Powertools configures the ``relance`` logger once per process, with the ``sys.stdout`` and the log level
    of that moment: when an earlier test created it under its own capture, capsys never sees its lines, and
    one that set POWERTOOLS_LOG_LEVEL=WARNING hides them. For the test, its handlers write to a buffer and it
    logs at INFO, as deployed (a logger created during the test writes to capsys instead).
    """
    buffer = io.StringIO()
    relance = logging.getLogger("relance")
    handlers = [h for h in relance.handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.stream for h in handlers]
    level = relance.level
    relance.setLevel(logging.INFO)       # template.yaml's POWERTOOLS_LOG_LEVEL (an earlier test may have lowered it)
    for handler in handlers:
        handler.stream = buffer          # not setStream(): it flushes the old stream, maybe a closed capture
    try:
        yield buffer
    finally:
        relance.setLevel(level)
        for handler, stream in zip(handlers, previous, strict=True):
            handler.stream = stream


def test_the_logs_of_a_season_carry_no_personal_data(driver: SeasonDriver, caplog: pytest.LogCaptureFixture,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.INFO)              # what the functions log at (POWERTOOLS_LOG_LEVEL)
    seed(driver)
    seed(driver, {"id": "C2", "name": "Jean Exemple", "kind": "b2c", "email": "jean@exemple.example",
                  "phone": "06 12 34 56 78", "address": "1 place du Marché, 75001 Paris"}, invoices=("B1",))
    season = Season(driver)

    def events(day: dt.date) -> None:
        if day == dt.date(2026, 4, 16):
            faults.arm("after_send")                       # an exception and a flag in the logs too
        if day == dt.date(2026, 4, 20):
            driver.ledger().record_payment("B1", __import__("decimal").Decimal("100.00"), day)

    with relance_log_lines() as logged:
        season.days(dt.date(2026, 4, 8), dt.date(2026, 5, 5), before=events)
    assert season.sends()
    captured = capsys.readouterr()
    text = "\n".join([captured.out, captured.err, logged.getvalue(), caplog.text,
                      *(str(r.__dict__) for r in caplog.records)])
    assert "sent" in text                                     # the logs were captured
    leaks = [p for p in PERSONAL if p in text]
    lines = [line[:300] for line in text.splitlines() if any(p in line for p in leaks)]
    assert not leaks, f"personal data in the logs: {leaks}: {lines[:3]}"
