"""Issue 14 point 4: a mail scanner that submits the page's first form decides nothing.

Scanners (Safe Links, Mimecast, Proofpoint...) follow links and some POST the first form they find with
its default values. The decision needs what they do not do: the one-time value the GET put in the form
(signed, tied to that approval) and the confirmation code the approver types from the page.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from test_escalation_support import approval_of, approve, case_waiting_for_approval, follow, in_state

from relance_dev.embedded import EmbeddedAws


class _FirstForm(HTMLParser):
    """What a form-submitting scanner sends: the first form's fields with their default values and the
    first submit button."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.forms = 0
        self.button = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms += 1
        if self.forms != 1:
            return
        if tag == "input" and a.get("type", "text") not in ("checkbox", "radio", "submit") and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields[a["name"]] = ""
        elif tag == "button" and a.get("type", "submit") == "submit" and not self.button and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
            self.button = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None


def _first_form(html: str) -> dict[str, str]:
    parser = _FirstForm()
    parser.feed(html)
    return parser.fields


@pytest.fixture
def case(embedded: EmbeddedAws) -> tuple[EmbeddedAws, str, str]:
    return case_waiting_for_approval(embedded, {"A1": "1800.00"})


def test_a_scanner_posting_the_first_form_decides_nothing(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    page = follow(aws, "GET", link)
    assert page["statusCode"] == 200
    form = _first_form(page["body"])
    assert form.get("decision") == "approve", form        # the scanner does press the first button
    for _ in range(2):
        reply = follow(aws, "POST", link, form)
        assert reply["statusCode"] in (400, 403), reply["statusCode"]
        assert "Traceback" not in reply["body"]
    # Posting the link straight (no GET), with the signature and a decision: nothing either.
    assert follow(aws, "POST", link, {"sig": link.split("sig=")[1], "decision": "approve"})["statusCode"] in (400, 403)
    assert approval_of(aws, case_id)["status"] == "pending"


def test_a_made_up_or_foreign_one_time_value_is_refused(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    form = _first_form(follow(aws, "GET", link)["body"])
    code = approval_of(aws, case_id)["case_id"][-4:].upper()
    nonce = next(k for k in form if k not in ("sig", "decision", "reason", "confirm"))
    forged = {**form, nonce: form[nonce][:-2] + ("AA" if not form[nonce].endswith("AA") else "BB"), "confirm": code}
    assert follow(aws, "POST", link, forged)["statusCode"] == 403
    assert approval_of(aws, case_id)["status"] == "pending"


def test_a_person_who_types_the_code_decides(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    reply = approve(aws, link)
    assert reply["statusCode"] == 200, reply["body"]
    assert approval_of(aws, case_id)["status"] == "approved"
    in_state(aws, case_id, "WaitForOutcome")
