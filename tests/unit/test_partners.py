"""Partners are the user's data: the shipped file has none, and a route without a partner is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from relance.errors import RelanceError
from relance.escalation import partners
from relance.policy import load_policy

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "policies" / "partners" / "partners.yaml"
DEMO = REPO / "events" / "partners.yaml"


def _policies() -> dict[str, object]:
    return {p.stem: load_policy(p, check_templates=False) for p in (REPO / "policies").glob("*.yaml")}


def test_the_shipped_file_is_only_a_commented_example() -> None:
    assert partners.load_partners(SHIPPED) == []
    text = SHIPPED.read_text(encoding="utf-8")
    assert "example.com" not in text and "# partners:" in text


def test_a_route_without_a_partner_fails_naming_the_route() -> None:
    with pytest.raises(RelanceError, match="no partner for route 'commissaire_de_justice'"):
        partners.resolve("commissaire_de_justice", partners.load_partners(SHIPPED))
    problems = partners.check_routes(_policies(), partners.load_partners(SHIPPED))
    assert "policy standard, step handoff: no partner for route 'commissaire_de_justice'" in problems
    assert partners.check_routes(_policies(), partners.load_partners(DEMO)) == []


def test_partners_check_exits_2_before_a_deploy(capsys: pytest.CaptureFixture[str]) -> None:
    from relance import cli

    assert cli.main(["partners", "check", "--file", str(SHIPPED)]) == 2
    assert "no partner for route" in capsys.readouterr().err
    assert cli.main(["partners", "check", "--file", str(DEMO)]) == 0


def test_a_notice_takes_effect_on_receipt_else_posting_plus_delivery_days(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from relance.escalation.letters import notice_date

    sent = dt.date(2026, 5, 18)
    posted = [{"date": "2026-05-19", "kind": "letter_posted", "details": {"step": "formal_notice"}}]
    received = [*posted, {"date": "2026-05-22", "kind": "letter_received", "details": {"step": "formal_notice"}}]
    assert notice_date([], "formal_notice", sent) == sent
    assert notice_date(posted, "formal_notice", sent) == dt.date(2026, 5, 21)
    monkeypatch.setenv("LETTER_DELIVERY_DAYS", "4")
    assert notice_date(posted, "formal_notice", sent) == dt.date(2026, 5, 23)
    assert notice_date(received, "formal_notice", sent) == dt.date(2026, 5, 22)
    assert notice_date(received, "final_notice", sent) == sent
