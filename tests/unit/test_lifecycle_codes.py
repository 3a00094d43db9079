"""E-invoicing lifecycle codes: labels and the refusal of unknown codes (legal-fr.md § 5)."""

from __future__ import annotations

import pytest

from relance.errors import ValidationError
from relance.imports.lifecycle import LABELS, PAUSING, STOPPING, label_of


def test_every_cdar_code_from_200_to_213_is_known() -> None:
    assert sorted(LABELS) == [str(c) for c in range(200, 214)]
    assert label_of("212") == "Encaissée" and label_of("211") == "Paiement transmis"
    assert {"207", "208"} == PAUSING and {"210", "213"} == STOPPING


@pytest.mark.parametrize("code", ["214", "199", "ABC", ""])
def test_unknown_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="unknown e-invoicing lifecycle status") as err:
        label_of(code)
    assert err.value.where == "status"
