"""The approval page (functions/approval) with API Gateway proxy events, on the embedded AWS."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from test_escalation_support import (
    RUN,
    approval_of,
    at,
    case_waiting_for_approval,
    follow,
    function_env,
    in_state,
    mails,
    states_entered,
)

from relance.escalation import approvals
from relance_dev.embedded import EmbeddedAws
from relance_dev.inputs import api_event, person_form, response_headers


@pytest.fixture
def case(embedded: EmbeddedAws) -> tuple[EmbeddedAws, str, str]:
    """A case waiting in RequestApproval, and its link."""
    return case_waiting_for_approval(embedded, {"A1": "1800.00", "A2": "600.00"})


def _sig(page: str) -> str:
    match = re.search(r'name="sig" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_get_shows_the_case_and_two_buttons_but_never_decides(case: tuple[EmbeddedAws, str, str]) -> None:
    # Given a case waiting for approval and its link
    aws, case_id, link = case
    # When the link is opened three times
    for _ in range(3):                      # a mail scanner, a preview, the person
        page = follow(aws, "GET", link)
        # Then each time the page shows
        assert page["statusCode"] == 200
    # And it shows the case, the bailiff and two buttons posting a signed form
    html = page["body"]
    assert "Boulangerie Exemple SARL" in html and "A1" in html and "A2" in html
    assert "Étude Exemple" in html and "petites créances" in html and "formal_notice" in html
    assert 'method="post"' in html and 'value="approve"' in html and 'value="reject"' in html
    assert _sig(html) == link.split("sig=")[1]
    # And it cannot be cached nor framed
    headers = response_headers(page)
    assert headers["Cache-Control"] == "no-store" and headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    # And nothing was decided
    assert approval_of(aws, case_id)["status"] == "pending"
    assert states_entered(aws, case_id)[-1] == "RequestApproval"


def test_forged_links_are_refused_with_403(case: tuple[EmbeddedAws, str, str]) -> None:
    # Given a case waiting for approval and its link
    aws, case_id, link = case
    # When the signature, its expiry or the id is tampered with, or missing
    base, sig = link.split("?sig=")
    expires, mac = sig.split(".")
    flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
    for forged in (f"{base}?sig={expires}.{flipped}", f"{base}?sig={int(expires) + 86400}.{mac}",
                   f"{base}?sig=", base, f"{base[:-1]}{'x' if base[-1] != 'x' else 'y'}?sig={sig}"):
        reply = follow(aws, "GET", forged)
        # Then each link is refused with a plain 403 page
        assert reply["statusCode"] == 403, forged
        assert "Lien invalide" in reply["body"] and "Traceback" not in reply["body"]
    # When a decision is posted with a forged signature
    post = follow(aws, "POST", link, {"sig": f"{expires}.{flipped}", "decision": "approve"})
    # Then it is refused too
    assert post["statusCode"] == 403
    # And nothing was decided
    assert approval_of(aws, case_id)["status"] == "pending"


def test_cross_site_post_and_missing_decision_are_refused(case: tuple[EmbeddedAws, str, str]) -> None:
    # Given a case waiting for approval and its link
    aws, case_id, link = case
    sig = link.split("sig=")[1]
    # When a decision is posted from another site
    evil = follow(aws, "POST", link, {"sig": sig, "decision": "approve"}, headers={"Origin": "https://evil.example"})
    # Then it is refused
    assert evil["statusCode"] == 403
    # And a post without a decision, or with an unknown one, is a bad request
    assert follow(aws, "POST", link, {"sig": sig})["statusCode"] == 400
    assert follow(aws, "POST", link, {"sig": sig, "decision": "maybe"})["statusCode"] == 400
    # And nothing was decided
    assert approval_of(aws, case_id)["status"] == "pending"


def test_unknown_id_is_404_even_with_a_valid_signature(case: tuple[EmbeddedAws, str, str]) -> None:
    # Given a case waiting for approval and a link with a valid signature for an id that does not exist
    aws, _, link = case
    unknown = approvals.new_approval_id()
    with function_env(aws, "ApprovalFunction") as services:
        arn = aws.function_env("ApprovalFunction")["APPROVAL_SECRET_ARN"]
        key = approvals.signing_key(arn, services.secrets)
    expires = int(link.split("sig=")[1].split(".")[0])
    signed = approvals.sign(key, unknown, expires)
    forged_but_signed = approvals.approval_link("https://x.example/Prod", unknown, signed)
    # When it is opened
    reply = follow(aws, "GET", forged_but_signed)
    # Then the page is 404
    assert reply["statusCode"] == 404 and "introuvable" in reply["body"]
    # And so is a link to a malformed id
    assert follow(aws, "GET", link.replace(link.split("/approvals/")[1].split("?")[0], "short"))["statusCode"] == 404


def test_expired_link_is_410(case: tuple[EmbeddedAws, str, str]) -> None:
    # Given a case waiting for approval; When its link is opened on its seventh day, Then it still shows
    aws, case_id, link = case
    assert follow(aws, "GET", link, day=RUN + dt.timedelta(days=7))["statusCode"] == 200    # last valid day
    # When it is opened on the eighth day
    late = RUN + dt.timedelta(days=8)
    # Then it has expired
    assert follow(aws, "GET", link, day=late)["statusCode"] == 410
    # And a decision posted then is refused as expired
    reply = follow(aws, "POST", link, {"sig": link.split("sig=")[1], "decision": "approve"}, day=late)
    assert reply["statusCode"] == 410 and "expiré" in reply["body"]
    # And nothing was decided
    assert approval_of(aws, case_id)["status"] == "pending"


def test_post_decides_once_and_the_link_is_then_used(case: tuple[EmbeddedAws, str, str]) -> None:
    # Given a case waiting for approval and the form of its page
    aws, case_id, link = case
    form = person_form(follow(aws, "GET", link)["body"], "approve")
    # When the person approves
    first = follow(aws, "POST", link, form)
    # Then the case is approved
    assert first["statusCode"] == 200 and "approuvée" in first["body"]
    # When a second decision is posted
    second = follow(aws, "POST", link, {**form, "decision": "reject"})
    # Then the link is used up, for posts and pages
    assert second["statusCode"] == 410
    assert follow(aws, "GET", link)["statusCode"] == 410
    # And the approval is recorded on the day
    approval = approval_of(aws, case_id)
    assert approval["status"] == "approved" and approval["decided_on"] == RUN.isoformat()
    # And the case goes on to wait for the outcome, not declined
    in_state(aws, case_id, "WaitForOutcome")
    assert "MarkDeclined" not in states_entered(aws, case_id)


def test_the_task_token_never_appears_in_a_page_or_a_log(case: tuple[EmbeddedAws, str, str],
                                                          capsys: pytest.CaptureFixture[str],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    # Given a case waiting for approval, with its task token, and logs captured at INFO
    aws, case_id, link = case
    caplog.set_level(logging.INFO)      # the functions log at INFO (POWERTOOLS_LOG_LEVEL)
    token = str(approval_of(aws, case_id)["task_token"])
    # When its pages are opened and the person approves
    pages = [follow(aws, "GET", link)["body"], follow(aws, "GET", link + "x")["body"]]
    pages.append(follow(aws, "POST", link, person_form(pages[0], "approve"))["body"])
    in_state(aws, case_id, "WaitForOutcome")
    # Then the token is in no page
    for page in pages:
        assert token not in page
    # And in no mail
    for message in mails(aws):
        assert token not in message.as_string()
    # And in no output or log
    captured = capsys.readouterr()
    assert token not in captured.out and token not in captured.err
    assert token not in caplog.text
    # And not in the link
    assert token not in link


def test_other_methods_and_routes_get_the_locked_down_html_page(case: tuple[EmbeddedAws, str, str]) -> None:
    # Given a case waiting for approval and its link
    aws, case_id, link = case
    # When the link is sent with another method, or a path the page does not serve is asked
    put = follow(aws, "PUT", link)
    event = api_event("GET", link, when=at(RUN))
    event["path"] = "/approvals"
    elsewhere = aws.invoke("ApprovalFunction", event)
    # Then the first is 405 and the second 404, both the HTML page with its no-cache, no-frame headers
    assert put["statusCode"] == 405 and elsewhere["statusCode"] == 404
    for reply in (put, elsewhere):
        headers = response_headers(reply)
        assert headers["Content-Type"].startswith("text/html") and headers["X-Frame-Options"] == "DENY"
        assert "<html" in reply["body"] and "Traceback" not in reply["body"]
    # And nothing was decided
    assert approval_of(aws, case_id)["status"] == "pending"


def test_a_failure_is_a_500_page_and_the_traceback_stays_in_the_logs(case: tuple[EmbeddedAws, str, str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a case waiting for approval, and a link check that breaks
    aws, _, link = case

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret store unreachable: internal detail")

    monkeypatch.setattr(approvals, "check_link", broken)
    # When the link is opened
    reply = follow(aws, "GET", link)
    # Then the person gets the 500 page without the exception's text
    assert reply["statusCode"] == 500
    assert "internal detail" not in reply["body"] and "Traceback" not in reply["body"]
    # And an event API Gateway would never send (no path) gets the same page
    odd = aws.invoke("ApprovalFunction", {"httpMethod": "GET"})
    assert odd["statusCode"] == 500 and "<html" in odd["body"]
