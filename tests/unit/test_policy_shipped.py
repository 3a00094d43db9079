"""The shipped policies, the committed JSON schema and the generated README vocabulary."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from relance.policy import load_policies, load_policy, validate_files
from relance.policy.schema import policy_schema, schema_json, vocabulary_markdown

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
SHIPPED = sorted(POLICIES.glob("*.yaml"))
TEMPLATES_FR = ROOT / "letter_templates" / "fr"


def test_standard_policy_is_the_designed_ladder() -> None:
    policy = load_policy(POLICIES / "standard.yaml", check_templates=False)
    assert policy.name == "standard"
    assert policy.timezone == "Europe/Paris"
    assert policy.min_gap_days == 5
    assert policy.min_balance == Decimal("10.00")
    assert (policy.calendar.country, policy.calendar.skip_weekends, policy.calendar.skip_holidays) == \
        ("FR", True, True)
    assert [(s.id, s.at_days, s.channels, s.action) for s in policy.steps] == [
        ("courtesy", -7, ("email",), "send"),
        ("due", 0, ("email",), "send"),
        ("call", 7, ("email", "task"), "send"),
        ("firm", 15, ("email", "sms"), "send"),
        ("formal_notice", 30, ("letter", "email"), "send"),
        ("final_notice", 40, ("email",), "send"),
        ("handoff", 50, (), "escalate"),
    ]
    assert all(s.template == s.id for s in policy.steps if s.action == "send")
    assert [repr(c) for c in policy.step("formal_notice").when] == ["balance_gte(Decimal('50.00'))"]
    handoff = policy.step("handoff")
    assert handoff.approval is True
    assert policy.penalties_after_principal == "claim"
    assert [(r.partner, [repr(c) for c in r.when]) for r in handoff.route] == [
        ("avocat", ["customer_kind(frozenset({'public'}))"]),     # public buyers: administrative judge
        ("commissaire_de_justice", ["case_balance_lte(Decimal('5000.00'))"]),
        ("collection_agency", []),
    ]


def test_load_policies_keys_by_name() -> None:
    policies = load_policies(POLICIES, check_templates=False)
    assert sorted(policies) == ["key_accounts", "standard"]


def test_shipped_policies_validate_with_complete_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    from test_policy_validate import make_templates

    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(make_templates(tmp_path)))
    assert validate_files(SHIPPED) == []


@pytest.mark.skipif(not TEMPLATES_FR.is_dir() or not any(TEMPLATES_FR.iterdir()),
                    reason="letter_templates/fr is still empty (the templates are being written)")
def test_shipped_policies_validate_with_the_shipped_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELANCE_TEMPLATES_DIR", raising=False)
    assert validate_files(SHIPPED) == []


def test_committed_schema_is_generated() -> None:
    assert (POLICIES / "policy.schema.json").read_text(encoding="utf-8") == schema_json(), \
        "regenerate with: relance policy schema > policies/policy.schema.json"


def test_readme_vocabulary_is_generated() -> None:
    text = (POLICIES / "README.md").read_text(encoding="utf-8")
    begin = text.index("-->", text.index("<!-- BEGIN GENERATED")) + 4
    end = text.index("<!-- END GENERATED -->")
    assert text[begin:end] == vocabulary_markdown(), \
        "regenerate the block of policies/README.md with: relance policy vocabulary"


def test_every_registered_element_is_documented_with_an_example() -> None:
    text = vocabulary_markdown()
    for name in ("balance_gte", "balance_lte", "case_balance_gte", "case_balance_lte", "customer_kind",
                 "segment_in", "overdue_invoices_gte", "days_overdue_gte", "days_overdue_lte", "send",
                 "escalate"):
        section = text.split(f"### `{name}`", 1)[1].split("###", 1)[0]
        assert "```yaml" in section, name


def test_shipped_policies_match_the_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(policy_schema())
    for path in SHIPPED:
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path
    bad = yaml.safe_load((POLICIES / "standard.yaml").read_text())
    del bad["steps"][-1]["route"]
    bad["steps"][0]["route"] = [{"partner": "collection_agency"}]
    bad["steps"][1]["at"] = "due+15"
    messages = " ".join(e.message for e in validator.iter_errors(bad))
    assert "'route' is a required property" in messages
    assert "False schema" in messages
    assert "does not match" in messages
    json.dumps(policy_schema())
