"""Team tasks' subjects fit SNS (fewer than 100 characters, one line) and are cut at a word, never inside one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from relance.adapters.aws.services import SNS_SUBJECT_MAX, sns_subject


def test_a_short_subject_is_kept_as_it_is() -> None:
    assert sns_subject("Appeler Boulangerie Exemple SARL – facture F-2026-001") == \
        "Appeler Boulangerie Exemple SARL – facture F-2026-001"


def test_a_long_subject_is_cut_at_a_word_and_says_so() -> None:
    # Given a task subject naming many invoices
    subject = "À décider : Boulangerie Exemple SARL – factures " + ", ".join(f"F-2026-{n:04d}" for n in range(1, 20))
    # When it is made an SNS subject
    cut = sns_subject(subject)
    # Then it fits, ends with « … » and every invoice number it shows is whole
    assert len(cut) <= SNS_SUBJECT_MAX and cut.endswith(" …")
    shown = cut.removesuffix(" …").split(", ")
    assert not cut.removesuffix(" …").endswith(",")
    assert all(number.endswith(f"F-2026-{n:04d}") for n, number in enumerate(shown, start=1))


def test_line_breaks_never_reach_sns() -> None:
    assert sns_subject("Lettres à poster\n– 3 lettre(s)") == "Lettres à poster – 3 lettre(s)"


@given(st.text(min_size=1, max_size=400).filter(str.strip))
def test_any_text_fits(text: str) -> None:
    subject = sns_subject(text)
    assert len(subject) <= SNS_SUBJECT_MAX and "\n" not in subject and "\r" not in subject
