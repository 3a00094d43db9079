"""Approval links attacked in ways tests/integration/test_approval.py does not cover: a scanner that adds
the decision to the GET, other HTTP methods, a POST carrying the signature only in the URL, and a replay of
the exact approving POST. None of them decides anything."""

from __future__ import annotations

import pytest
from test_escalation_support import (
    approval_of,
    case_waiting_for_approval,
    follow,
    in_state,
    states_entered,
)

from relance.escalation import approvals
from relance_dev.embedded import EmbeddedAws
from relance_dev.inputs import person_form


@pytest.fixture
def case(embedded: EmbeddedAws) -> tuple[EmbeddedAws, str, str]:
    return case_waiting_for_approval(embedded, {"A1": "1800.00"})


def _status(aws: EmbeddedAws, case_id: str) -> str:
    return str(approval_of(aws, case_id)["status"])


def test_nothing_but_a_signed_post_from_the_page_decides(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    sig = link.split("sig=")[1]
    # A scanner or a crafted link adding the decision to the GET: a page, no decision.
    for extra in ("&decision=approve", "&decision=approve&confirm=1", "&decision=reject"):
        assert follow(aws, "GET", link + extra)["statusCode"] == 200
    # Prefetchers and other methods.
    for method in ("HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"):
        reply = follow(aws, method, link, {"sig": sig, "decision": "approve"})
        assert reply["statusCode"] == 405 and "Traceback" not in reply["body"], method
    # A POST whose signature is only in the URL (a link checker POSTing the bare link).
    assert follow(aws, "POST", link, {"decision": "approve"})["statusCode"] in (400, 403)
    # A signature made for another approval id.
    other = approvals.new_approval_id()
    approval_id = link.split("/approvals/")[1].split("?")[0]
    assert follow(aws, "POST", link.replace(approval_id, other), {"sig": sig, "decision": "approve"})[
        "statusCode"] in (403, 404)
    assert _status(aws, case_id) == "pending"
    assert states_entered(aws, case_id)[-1] == "RequestApproval"


def test_replaying_the_approving_post_changes_nothing(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    form = person_form(follow(aws, "GET", link)["body"], "approve")
    assert follow(aws, "POST", link, form)["statusCode"] == 200
    in_state(aws, case_id, "WaitForOutcome")
    entered = states_entered(aws, case_id)
    for _ in range(3):
        assert follow(aws, "POST", link, form)["statusCode"] == 410
        assert follow(aws, "POST", link, {**form, "decision": "reject"})["statusCode"] == 410
    assert _status(aws, case_id) == "approved"
    assert states_entered(aws, case_id) == entered and "MarkDeclined" not in entered
