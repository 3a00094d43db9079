"""Policy validation: every problem is reported as FILE:LINE: message, all of them, never a traceback."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from relance.errors import PolicyError
from relance.policy import load_policies, load_policy, load_policy_text, validate_files, validate_text
from relance.policy.actions import TEMPLATE_SUFFIXES

BASE = """\
name: test
description: Test policy
timezone: Europe/Paris
calendar: {country: FR, skip_weekends: true, skip_holidays: true}
min_gap_days: 5
min_balance: "10.00"
steps:
  - id: courtesy
    at: due-7d
    channels: [email]
    template: courtesy
  - id: firm
    at: due+15d
    channels: [email, sms]
    template: firm
    when: {balance_gte: "50.00"}
  - id: handoff
    at: due+50d
    action: escalate
    approval: required
    route:
      - when: {case_balance_lte: "5000.00"}
        partner: commissaire_de_justice
      - partner: collection_agency
"""
TEMPLATE_NAMES = ("courtesy", "due", "call", "firm", "formal_notice", "final_notice", "letter")


def make_templates(root: Path, names: tuple[str, ...] = TEMPLATE_NAMES,
                   languages: tuple[str, ...] = ("fr", "en")) -> Path:
    for language in languages:
        folder = root / language
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            for suffixes in TEMPLATE_SUFFIXES.values():
                for suffix in suffixes:
                    (folder / f"{name}.{suffix}.j2").write_text("")
    return root


@pytest.fixture(autouse=True)
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_templates(tmp_path / "templates")
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(root))
    return root


def edit(line_no: int, new: str, text: str = BASE) -> str:
    """Replace line ``line_no`` (1-based) of the text."""
    lines = text.splitlines()
    lines[line_no - 1] = new
    return "\n".join(lines) + "\n"


def errors(text: str) -> list[str]:
    return validate_text(text, "p.yaml")


def test_base_is_valid() -> None:
    assert errors(BASE) == []
    policy = load_policy_text(BASE, "p.yaml")
    assert policy.name == "test"
    assert policy.min_gap_days == 5
    assert policy.min_balance == Decimal("10.00")
    assert [s.id for s in policy.steps] == ["courtesy", "firm", "handoff"]
    assert [s.at_days for s in policy.steps] == [-7, 15, 50]
    assert policy.steps[1].channels == ("email", "sms")
    handoff = policy.step("handoff")
    assert handoff.action == "escalate" and handoff.approval is True
    assert [r.partner for r in handoff.route] == ["commissaire_de_justice", "collection_agency"]


def test_yaml_syntax_error_names_the_line() -> None:
    [error] = errors(edit(10, "    channels: [email"))
    assert error.startswith("p.yaml:11: YAML syntax error")


def test_duplicate_key() -> None:
    assert errors(edit(11, "    at: due-6d")) == ["p.yaml:11: duplicate key 'at' (first at line 9)"]


def test_empty_file() -> None:
    assert errors("") == ["p.yaml:1: the file is empty: expected a policy with 'name' and 'steps'"]


def test_not_a_mapping() -> None:
    assert errors("- a\n- b\n") == ["p.yaml:1: a policy must be a mapping with at least 'name' and 'steps'"]


def test_unknown_top_level_key_with_suggestion() -> None:
    assert errors(edit(5, "min_gap_day: 5")) == [
        "p.yaml:5: unknown key 'min_gap_day' in the policy (did you mean 'min_gap_days'?)"]


def test_unknown_step_key() -> None:
    assert errors(edit(11, "    tempalte: courtesy")) == [
        "p.yaml:11: unknown key 'tempalte' in step 'courtesy' (did you mean 'template'?)"]


def test_unknown_condition_in_when() -> None:
    assert errors(edit(16, '    when: {balance_greater: "50.00"}')) == [
        "p.yaml:16: unknown condition 'balance_greater' in step 'firm' (did you mean 'balance_gte'?)"]


def test_unknown_route_key() -> None:
    assert errors(edit(24, "      - partnr: collection_agency")) == [
        "p.yaml:24: unknown key 'partnr' in route entry of step 'handoff' (did you mean 'partner'?)",
        "p.yaml:24: route entry of step 'handoff' has no 'partner' (expected one of: collection_agency, "
        "commissaire_de_justice, avocat)",
    ]


def test_unknown_calendar_key() -> None:
    assert errors(edit(4, "calendar: {country: FR, skip_weekend: true}")) == [
        "p.yaml:4: unknown key 'skip_weekend' in calendar (did you mean 'skip_weekends'?)"]


def test_unknown_channel() -> None:
    assert errors(edit(14, "    channels: [email, fax]")) == [
        "p.yaml:14: unknown channel 'fax' in step 'firm'; expected one of: email, sms, letter, task"]


def test_channel_listed_twice() -> None:
    assert errors(edit(14, "    channels: [email, email]")) == [
        "p.yaml:14: channel 'email' is listed twice in step 'firm'"]


def test_unknown_action() -> None:
    assert errors(edit(19, "    action: escalade")) == [
        "p.yaml:19: unknown action 'escalade' in step 'handoff' (did you mean 'escalate'?)"]


@pytest.mark.parametrize("offset", ["due+15", "15d", "due + 15d", "due+15days", "J+15", "due+99999d", "15"])
def test_malformed_offset(offset: str) -> None:
    [error] = errors(edit(13, f"    at: {offset}"))
    assert error.startswith("p.yaml:13: malformed offset ")
    assert "expected due, due+Nd or due-Nd" in error


@pytest.mark.parametrize(("offset", "days"), [("due", 0), ("due+0d", 0), ("due-7d", -7), ("due+15d", 15)])
def test_good_offsets(offset: str, days: int) -> None:
    policy = load_policy_text(edit(13, f"    at: {offset}"), "p.yaml")
    assert policy.steps[1].at_days == days


def test_duplicate_step_id() -> None:
    assert errors(edit(12, "  - id: courtesy")) == [
        "p.yaml:12: duplicate step id 'courtesy' (first at line 8)"]


def test_steps_out_of_order() -> None:
    assert errors(edit(18, "    at: due+10d")) == [
        "p.yaml:18: step 'handoff' at due+10d comes before the previous step 'firm' at due+15d: "
        "list steps in the order they fire"]


def test_equal_offsets_are_allowed() -> None:
    assert errors(edit(18, "    at: due+15d")) == []


def test_missing_templates_per_language(templates: Path) -> None:
    (templates / "fr" / "firm.sms.j2").unlink()
    (templates / "en" / "firm.html.j2").unlink()
    assert errors(BASE) == [
        "p.yaml:15: step 'firm': missing template en/firm.html.j2 (in " + _shown(templates) + ")",
        "p.yaml:15: step 'firm': missing template fr/firm.sms.j2 (in " + _shown(templates) + ")",
    ]


def _shown(path: Path) -> str:
    import os
    return os.path.relpath(path)


def test_missing_templates_for_letter_and_task(templates: Path) -> None:
    text = edit(14, "    channels: [letter, task]")
    (templates / "fr" / "firm.letter.j2").unlink()
    (templates / "fr" / "firm.task.j2").unlink()
    assert errors(text) == [f"p.yaml:15: step 'firm': missing template fr/firm.letter.j2, fr/firm.task.j2 "
                            f"(in {_shown(templates)})"]


def test_template_defaults_to_step_id_and_is_checked(templates: Path) -> None:
    text = edit(11, "    channels: [sms]", edit(10, "  # no template key")).replace(
        "  - id: courtesy", "  - id: reminder")
    problems = errors(text)
    assert len(problems) == 2
    assert problems[0].startswith("p.yaml:8: step 'reminder': missing template en/reminder.sms.j2")
    without = load_policy_text(BASE.replace("    template: courtesy\n", ""), "p.yaml")
    assert without.steps[0].template == "courtesy"


def test_no_language_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(tmp_path / "nowhere"))
    [error] = errors(BASE)
    assert error.startswith("p.yaml:7: no language folder (fr, en) in the templates directory")


def test_templates_check_can_be_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELANCE_TEMPLATES_DIR", str(tmp_path / "nowhere"))
    assert validate_text(BASE, "p.yaml", check_templates=False) == []


def test_template_must_be_a_file_stem() -> None:
    assert errors(edit(11, "    template: ../secret")) == [
        "p.yaml:11: template '../secret' of step 'courtesy' must be a file name stem "
        "(lowercase letters, digits, _ and -)"]


def test_escalate_without_route() -> None:
    text = "\n".join(BASE.splitlines()[:20]) + "\n"
    assert errors(text) == ["p.yaml:17: step 'handoff' (escalate) has no 'route'"]


def test_escalate_with_empty_route() -> None:
    text = "\n".join(BASE.splitlines()[:20]) + "\n    route: []\n"
    assert errors(text) == [
        "p.yaml:21: 'route' of step 'handoff' must be a non-empty list of {when: ..., partner: ...} entries"]


def test_route_without_catch_all() -> None:
    text = "\n".join(BASE.splitlines()[:23]) + "\n"
    assert errors(text) == [
        "p.yaml:21: 'route' of step 'handoff' needs a last entry without 'when' (such as "
        "{partner: collection_agency}) so that every case has a partner"]


def test_route_entry_after_catch_all_is_unreachable() -> None:
    text = BASE + "      - partner: commissaire_de_justice\n"
    assert errors(text) == [
        "p.yaml:25: route entry of step 'handoff' can never be chosen: the entry at line 24 has no 'when' "
        "and matches every case"]


def test_unknown_partner() -> None:
    assert errors(edit(23, "        partner: huissier")) == [
        "p.yaml:23: unknown partner 'huissier' in step 'handoff'; expected one of: collection_agency, "
        "commissaire_de_justice, avocat"]


def test_bad_approval() -> None:
    assert errors(edit(20, "    approval: yes")) == [
        "p.yaml:20: 'approval' of step 'handoff' must be 'required' or 'none', not True"]


def test_action_specific_keys() -> None:
    assert errors(edit(20, "    channels: [email]")) == [
        "p.yaml:20: 'channels' is not allowed on an escalate step (step 'handoff')"]
    assert errors(edit(15, "    approval: none")) == ["p.yaml:15: 'approval' is not allowed on a send step "
                                                       "(step 'firm')"]


def test_send_step_needs_channels() -> None:
    assert errors(edit(10, "    # no channels")) == ["p.yaml:8: step 'courtesy' (send) has no 'channels'"]


@pytest.mark.parametrize("value", ["50.0", "50", "5.0e+1", "-3.00"])
def test_amounts_must_be_quoted_decimal_strings(value: str) -> None:
    [error] = errors(edit(16, f"    when: {{balance_gte: {value}}}"))
    if value == "-3.00":
        assert error == ("p.yaml:16: condition 'balance_gte' in step 'firm': amount must be a quoted "
                         "decimal string such as \"50.00\", not -3.0")
    else:
        assert error.startswith("p.yaml:16: condition 'balance_gte' in step 'firm': amount must be a quoted "
                                "decimal string such as \"50.00\"")


def test_quoted_amount_that_is_not_a_decimal() -> None:
    for text in ('"50,00"', "5e1", '"50.001"'):
        [error] = errors(edit(16, f"    when: {{balance_gte: {text}}}"))
        assert error.startswith("p.yaml:16: condition 'balance_gte' in step 'firm': amount '")
        assert "is not a decimal with a dot and at most two places" in error


def test_min_balance_float() -> None:
    assert errors(edit(6, "min_balance: 10.0")) == [
        "p.yaml:6: 'min_balance': amount must be a quoted decimal string such as \"50.00\", not 10.0"]


def test_unknown_timezone() -> None:
    assert errors(edit(3, "timezone: Europe/Lyon")) == [
        "p.yaml:3: unknown timezone 'Europe/Lyon' (IANA name such as Europe/Paris)"]


@pytest.mark.parametrize("value", ["-1", "2.5", '"5"', "true", "400"])
def test_min_gap_days(value: str) -> None:
    [error] = errors(edit(5, f"min_gap_days: {value}"))
    assert error.startswith("p.yaml:5: 'min_gap_days' must be a whole number of days from 0 to 365")


def test_calendar_subdivision() -> None:
    for department in ('"57"', '"67"', "68"):
        assert errors(edit(4, f"calendar: {{country: FR, subdivision: {department}}}")) == []
    [error] = errors(edit(4, 'calendar: {country: FR, subdivision: "75"}'))
    assert error.startswith("p.yaml:4: unknown subdivision '75' for FR; expected one of: ")
    policy = load_policy_text(edit(4, 'calendar: {country: FR, subdivision: "67"}'), "p.yaml")
    assert policy.calendar.subdivision == "67"


def test_calendar_country_and_booleans() -> None:
    assert errors(edit(4, "calendar: {country: XX, skip_weekends: maybe}")) == [
        "p.yaml:4: unknown calendar country 'XX' (ISO code such as FR)",
        "p.yaml:4: 'skip_weekends' must be true or false, not 'maybe'",
    ]


@pytest.mark.parametrize(("when", "message"), [
    ("{customer_kind: b2x}", "condition 'customer_kind' in step 'firm': unknown customer kind 'b2x'"),
    ("{segment_in: key}", "condition 'segment_in' in step 'firm': expected a list of segments"),
    ("{overdue_invoices_gte: 0}", "condition 'overdue_invoices_gte' in step 'firm': expected a whole number "
                                  "between 1 and 100000, not 0"),
    ("{days_overdue_gte: ten}", "condition 'days_overdue_gte' in step 'firm': expected a whole number"),
    ("{}", "'when' in step 'firm' must be a mapping of conditions"),
    ("balance_gte", "'when' in step 'firm' must be a mapping of conditions"),
])
def test_bad_condition_values(when: str, message: str) -> None:
    [error] = errors(edit(16, f"    when: {when}"))
    assert error.startswith(f"p.yaml:16: {message}")


def test_every_condition_parses() -> None:
    text = edit(16, '    when: {balance_gte: "1.00", balance_lte: "2.00", case_balance_gte: "3.00", '
                    'case_balance_lte: "4.00", customer_kind: [b2b, public], segment_in: [vip], '
                    'overdue_invoices_gte: 2, days_overdue_gte: 3, days_overdue_lte: 60}')
    policy = load_policy_text(text, "p.yaml")
    assert len(policy.steps[1].when) == 9


def test_missing_required_keys() -> None:
    assert errors("description: x\n") == ["p.yaml:1: the policy has no 'name'",
                                           "p.yaml:1: the policy has no 'steps'"]
    assert errors(edit(9, "    # no at")) == [
        "p.yaml:8: step 'courtesy' has no 'at' (offset from the due date such as due+15d)"]
    assert errors(edit(8, "  - at0: x"))[0].startswith("p.yaml:8:")


def test_bad_name_and_step_id() -> None:
    assert errors(edit(1, "name: Standard Policy")) == [
        "p.yaml:1: policy name 'Standard Policy' must be lowercase letters, digits, _ or - (at most 50)"]
    assert errors(edit(8, "  - id: Courtesy!")) == [
        "p.yaml:8: step id 'Courtesy!' must be a lowercase word (letters, digits, _)"]


def test_all_errors_are_reported_in_line_order() -> None:
    text = edit(3, "timezone: Mars/Olympus", edit(14, "    channels: [fax]", edit(18, "    at: due+5d")))
    problems = errors(text)
    assert [p.split(":")[1] for p in problems] == ["3", "14", "18"]


def test_load_policy_raises_policy_error_with_every_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(edit(3, "timezone: Nowhere", edit(14, "    channels: [fax]")))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.errors == [
        f"{path}:3: unknown timezone 'Nowhere' (IANA name such as Europe/Paris)",
        f"{path}:14: unknown channel 'fax' in step 'firm'; expected one of: email, sms, letter, task",
    ]
    assert str(info.value) == (f"{path}:3: unknown timezone 'Nowhere' (IANA name such as Europe/Paris) "
                               "(and 1 more)")


def test_missing_file_and_not_utf8(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(PolicyError) as info:
        load_policy(missing)
    assert info.value.errors == [f"{missing}: cannot read (No such file or directory)"]
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00name")
    assert validate_files([binary]) == [f"{binary}: not a UTF-8 text file"]


def test_yaml_oddities_are_errors_not_tracebacks() -> None:
    assert errors("name: a\n? [x]\n: y\nsteps: []\n")[0] == \
        "p.yaml:2: keys must be words, not mappings or lists"
    assert errors("name: a\n1: x\nsteps: []\n")[0] == "p.yaml:2: key 1 must be a word, not a int"
    assert "merge keys" in errors("base: &b {id: x}\nname: a\nsteps:\n  - <<: *b\n")[1]
    assert errors("a: !!python/object:os.system x\n")[0].startswith("p.yaml:1: YAML")
    assert errors("--- a\n--- b\n")[0].startswith("p.yaml:2: YAML syntax error")


def test_validate_files_and_load_policies(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE)
    (tmp_path / "b.yml").write_text(BASE.replace("name: test", "name: other"))
    assert validate_files([tmp_path / "a.yaml", tmp_path / "b.yml"]) == []
    policies = load_policies(tmp_path)
    assert sorted(policies) == ["other", "test"]
    assert policies["test"].source == str(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text(BASE)
    (tmp_path / "d.yaml").write_text(edit(5, "min_gap_days: -1"))
    with pytest.raises(PolicyError) as info:
        load_policies(tmp_path)
    assert info.value.errors == [
        f"{tmp_path / 'c.yaml'}:1: policy name 'test' is already used by {tmp_path / 'a.yaml'}",
        f"{tmp_path / 'd.yaml'}:5: 'min_gap_days' must be a whole number of days from 0 to 365, not -1",
    ]
    with pytest.raises(PolicyError):
        load_policies(tmp_path / "nope")


def test_alias_bombs_and_recursion_are_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    [error] = errors(bomb)
    assert "expands to more than 100000 YAML values" in error
    [error] = errors("a: &a [*a]\n")
    assert error.startswith("p.yaml:1: ")


def test_an_impossible_date_is_an_error_with_its_line_not_a_traceback(tmp_path) -> None:
    path = tmp_path / "bad-date.yaml"
    path.write_text("name: x\ntimezone: Europe/Paris\ndescription: 2026-02-30\nsteps: []\n")
    errors = validate_files([path], check_templates=False)
    assert errors and errors[0].startswith(f"{path}:3: ") and "2026-02-30" in errors[0]


def test_penalties_after_principal_setting() -> None:
    assert load_policy_text(BASE, "p.yaml").penalties_after_principal == "waive"      # the default
    text = edit(6, 'min_balance: "10.00"\npenalties_after_principal: claim')
    assert errors(text) == []
    assert load_policy_text(text, "p.yaml").penalties_after_principal == "claim"
    assert errors(edit(6, 'min_balance: "10.00"\npenalties_after_principal: yes')) == [
        "p.yaml:7: 'penalties_after_principal' must be claim or waive, not True"]
