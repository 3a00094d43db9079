"""The approval page (functions/approval) with API Gateway proxy events, on the embedded AWS."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from test_escalation_support import (
    RUN,
    approval_of,
    case_waiting_for_approval,
    follow,
    function_env,
    in_state,
    mails,
    states_entered,
)

from relance.escalation import approvals
from relance_dev.embedded import EmbeddedAws
from relance_dev.inputs import person_form


@pytest.fixture
def case(embedded: EmbeddedAws) -> tuple[EmbeddedAws, str, str]:
    """A case waiting in RequestApproval, and its link."""
    return case_waiting_for_approval(embedded, {"A1": "1800.00", "A2": "600.00"})


def _sig(page: str) -> str:
    match = re.search(r'name="sig" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_get_shows_the_case_and_two_buttons_but_never_decides(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    for _ in range(3):                      # a mail scanner, a preview, the person
        page = follow(aws, "GET", link)
        assert page["statusCode"] == 200
    html = page["body"]
    assert "Boulangerie Exemple SARL" in html and "A1" in html and "A2" in html
    assert "Étude Exemple" in html and "petites créances" in html and "formal_notice" in html
    assert 'method="post"' in html and 'value="approve"' in html and 'value="reject"' in html
    assert _sig(html) == link.split("sig=")[1]
    headers = page["headers"]
    assert headers["Cache-Control"] == "no-store" and headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert approval_of(aws, case_id)["status"] == "pending"
    assert states_entered(aws, case_id)[-1] == "RequestApproval"


def test_forged_links_are_refused_with_403(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    base, sig = link.split("?sig=")
    expires, mac = sig.split(".")
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    for forged in (f"{base}?sig={expires}.{flipped}", f"{base}?sig={int(expires) + 86400}.{mac}",
                   f"{base}?sig=", base, f"{base[:-1]}{'x' if base[-1] != 'x' else 'y'}?sig={sig}"):
        reply = follow(aws, "GET", forged)
        assert reply["statusCode"] == 403, forged
        assert "Lien invalide" in reply["body"] and "Traceback" not in reply["body"]
    post = follow(aws, "POST", link, {"sig": f"{expires}.{flipped}", "decision": "approve"})
    assert post["statusCode"] == 403
    assert approval_of(aws, case_id)["status"] == "pending"


def test_cross_site_post_and_missing_decision_are_refused(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    sig = link.split("sig=")[1]
    evil = follow(aws, "POST", link, {"sig": sig, "decision": "approve"}, headers={"Origin": "https://evil.example"})
    assert evil["statusCode"] == 403
    assert follow(aws, "POST", link, {"sig": sig})["statusCode"] == 400
    assert follow(aws, "POST", link, {"sig": sig, "decision": "maybe"})["statusCode"] == 400
    assert approval_of(aws, case_id)["status"] == "pending"


def test_unknown_id_is_404_even_with_a_valid_signature(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, _, link = case
    unknown = approvals.new_approval_id()
    with function_env(aws, "ApprovalFunction") as services:
        arn = aws.function_env("ApprovalFunction")["APPROVAL_SECRET_ARN"]
        key = approvals.signing_key(arn, services.secrets)
    expires = int(link.split("sig=")[1].split(".")[0])
    signed = approvals.sign(key, unknown, expires)
    forged_but_signed = approvals.approval_link("https://x.example/Prod", unknown, signed)
    reply = follow(aws, "GET", forged_but_signed)
    assert reply["statusCode"] == 404 and "introuvable" in reply["body"]
    assert follow(aws, "GET", link.replace(link.split("/approvals/")[1].split("?")[0], "short"))["statusCode"] == 404


def test_expired_link_is_410(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    assert follow(aws, "GET", link, day=RUN + dt.timedelta(days=7))["statusCode"] == 200    # last valid day
    late = RUN + dt.timedelta(days=8)
    assert follow(aws, "GET", link, day=late)["statusCode"] == 410
    reply = follow(aws, "POST", link, {"sig": link.split("sig=")[1], "decision": "approve"}, day=late)
    assert reply["statusCode"] == 410 and "expiré" in reply["body"]
    assert approval_of(aws, case_id)["status"] == "pending"


def test_post_decides_once_and_the_link_is_then_used(case: tuple[EmbeddedAws, str, str]) -> None:
    aws, case_id, link = case
    form = person_form(follow(aws, "GET", link)["body"], "approve")
    first = follow(aws, "POST", link, form)
    assert first["statusCode"] == 200 and "approuvée" in first["body"]
    second = follow(aws, "POST", link, {**form, "decision": "reject"})
    assert second["statusCode"] == 410
    assert follow(aws, "GET", link)["statusCode"] == 410
    approval = approval_of(aws, case_id)
    assert approval["status"] == "approved" and approval["decided_on"] == RUN.isoformat()
    in_state(aws, case_id, "WaitForOutcome")
    assert "MarkDeclined" not in states_entered(aws, case_id)


def test_the_task_token_never_appears_in_a_page_or_a_log(case: tuple[EmbeddedAws, str, str],
                                                          capsys: pytest.CaptureFixture[str],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    aws, case_id, link = case
    caplog.set_level(logging.INFO)      # the functions log at INFO (POWERTOOLS_LOG_LEVEL)
    token = str(approval_of(aws, case_id)["task_token"])
    pages = [follow(aws, "GET", link)["body"], follow(aws, "GET", link + "x")["body"]]
    pages.append(follow(aws, "POST", link, person_form(pages[0], "approve"))["body"])
    in_state(aws, case_id, "WaitForOutcome")
    for page in pages:
        assert token not in page
    for message in mails(aws):
        assert token not in message.as_string()
    captured = capsys.readouterr()
    assert token not in captured.out and token not in captured.err
    assert token not in caplog.text
    assert token not in link
