"""A call step: the task carries the phone number; without one, it is a task to find it, not a promise."""

from __future__ import annotations

import pytest
from test_templates import make_ctx, plain

from relance.rendering import render


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_call_task_shows_the_phone_and_the_email_announces_the_call(lang: str) -> None:
    ctx = make_ctx("call", language=lang, extra={"customer_phone": "+33612345678"})
    rendered = render("call", ("email", "task"), ctx)
    assert "+33612345678" in plain(rendered.task or "")
    assert "relance task done F-2026-101:call" in plain(rendered.task or "")
    assert ("par téléphone" if lang == "fr" else "will call you") in plain(rendered.text or "")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_without_a_phone_the_email_promises_no_call_and_the_task_is_to_find_one(lang: str) -> None:
    ctx = make_ctx("call", language=lang, extra={"customer_phone": ""})
    rendered = render("call", ("email", "task"), ctx)
    text, html = plain(rendered.text or ""), plain(rendered.html or "")
    for body in (text, html):
        assert "téléphone" not in body and "will call" not in body
    task = plain(rendered.task or "")
    assert ("trouver le numéro" if lang == "fr" else "first find it") in task


def test_the_history_says_a_call_was_requested_not_made() -> None:
    ctx = make_ctx("call", language="fr", extra={"customer_phone": "+33612345678"})
    task = plain(render("call", ("task",), ctx).task or "")
    assert "appel téléphonique" not in task and "appel demandé" in task
