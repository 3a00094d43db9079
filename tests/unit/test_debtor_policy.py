"""The policy's ``debtor_page`` settings: defaults, values, and errors that name the line."""

from __future__ import annotations

import pytest
from test_policy_validate import BASE, edit, errors

from relance.policy import load_policy_text


def test_defaults_are_seven_and_thirty_days() -> None:
    policy = load_policy_text(BASE, "p.yaml")
    assert (policy.paid_pause_days, policy.promise_max_days) == (7, 30)


def test_values_are_read() -> None:
    text = edit(6, 'min_balance: "10.00"\ndebtor_page: {paid_pause_days: 10, promise_max_days: 45}')
    assert errors(text) == []
    policy = load_policy_text(text, "p.yaml")
    assert (policy.paid_pause_days, policy.promise_max_days) == (10, 45)


@pytest.mark.parametrize(("section", "needle"), [
    ("debtor_page: {paid_pause_days: 0}", "paid_pause_days"),
    ("debtor_page: {promise_max_days: 400}", "promise_max_days"),
    ("debtor_page: {promise_max_days: \"30\"}", "promise_max_days"),
    ("debtor_page: {pause: 7}", "unknown key 'pause'"),
    ("debtor_page: 7", "must be a mapping"),
])
def test_bad_values_name_the_line(section: str, needle: str) -> None:
    found = errors(edit(6, 'min_balance: "10.00"\n' + section))
    assert len(found) == 1 and found[0].startswith("p.yaml:7:") and needle in found[0], found
