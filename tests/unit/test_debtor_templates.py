"""Every reminder carries the debtor's link (text, HTML and the printed letter) when dispatch gives one."""

from __future__ import annotations

import re

import pytest
from test_templates import make_ctx, pdf_text

from relance.rendering import render

LINK = "https://abc.execute-api.eu-west-3.amazonaws.com/Prod/p/" + "x" * 32 + "?sig=1782165599." + "y" * 43
REMINDERS = ("courtesy", "due", "call", "firm", "formal_notice", "final_notice")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("step", REMINDERS)
def test_every_reminder_shows_the_link(step: str, lang: str) -> None:
    ctx = make_ctx(step, language=lang, extra={"debtor_link": LINK})
    rendered = render(step, ("email", "letter"), ctx)
    assert rendered.text is not None and LINK in rendered.text
    assert rendered.html is not None and f'href="{LINK}"' in rendered.html
    assert rendered.pdf is not None
    # a long notice may carry the link over a page break: the footer of the page comes between its parts
    text = re.sub(r"Menuiserie Exemple SAS · SIREN \d+ · [^·]+ · [^·]+ · https://exemple\.example", "",
                  pdf_text(rendered.pdf))
    assert LINK in text.replace(" ", "")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_no_link_no_block(lang: str) -> None:
    rendered = render("firm", ("email",), make_ctx("firm", language=lang, extra={}))
    assert rendered.text is not None and "/p/" not in rendered.text
    assert rendered.html is not None and ("Répondre en ligne" not in rendered.html
                                          and "Answer online" not in rendered.html)
