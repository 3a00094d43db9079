"""The rate table (relance/data/rates.yaml) and its look-ups (relance.law.rates)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from relance.errors import RateMissingError, RelanceError
from relance.law import compute, legal_rate, reference_ecb_rate
from relance.law.rates import ENV_RATES_FILE, Semester, parse_table, table

PACKAGED = Path(__file__).resolve().parents[2] / "layers/relance/relance/data/rates.yaml"

# legal-fr.md tables 0.2 and 0.3, in percent: (ECB reference, particulier, autres cas)
PUBLISHED = {
    # issue 15: every semester back to 2021-S1 (Banque de France table of key ECB rates; the arrêtés)
    "2021-S1": ("0.00", "3.14", "0.79"),
    "2021-S2": ("0.00", "3.12", "0.76"),
    "2022-S1": ("0.00", "3.13", "0.76"),
    "2022-S2": ("0.00", "3.15", "0.77"),   # the 0,50 % of 27 July 2022 came after 1 July
    "2023-S1": ("2.50", "4.47", "2.06"),   # 21 Dec 2022
    "2023-S2": ("4.00", "6.82", "4.22"),   # 21 Jun 2023, not the 4,25 % of 2 Aug 2023
    "2024-S1": ("4.50", "8.01", "5.07"),
    "2024-S2": ("4.25", "8.16", "4.92"),
    "2025-S1": ("3.15", "7.21", "3.71"),
    "2025-S2": ("2.15", "6.65", "2.76"),
    "2026-S1": ("2.15", "6.67", "2.62"),
}


@pytest.fixture(autouse=True)
def _packaged_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_RATES_FILE, raising=False)


@pytest.mark.parametrize(("semester", "values"), PUBLISHED.items())
def test_published_rates(semester: str, values: tuple[str, str, str]) -> None:
    ecb, individual, professional = (D(v) / 100 for v in values)
    assert reference_ecb_rate(semester) == ecb
    assert legal_rate(semester) == professional
    assert legal_rate(semester, "professional") == professional
    assert legal_rate(semester, "individual") == individual


def test_default_l441_10_rates_of_table_0_3() -> None:
    assert [reference_ecb_rate(s) + D("0.10") for s in list(PUBLISHED)[6:]] == [
        D("0.1450"), D("0.1425"), D("0.1315"), D("0.1215"), D("0.1215")]


def test_floor_of_table_0_2() -> None:
    assert [legal_rate(s) * 3 for s in list(PUBLISHED)[6:]] == [
        D("0.1521"), D("0.1476"), D("0.1113"), D("0.0828"), D("0.0786")]


def test_2026_s2_ecb_rate_is_entered_with_its_caveat() -> None:
    assert reference_ecb_rate("2026-S2") == D("0.024")
    caveats = table().caveats("2026-S2", ecb=True)
    assert len(caveats) == 1 and "not confirmed by a primary source" in caveats[0]
    assert table().caveats("2026-S1", ecb=True, legal=True) == []


def test_every_semester_since_2021_has_its_ecb_rate_and_source() -> None:
    for year in range(2021, 2027):
        for half in (1, 2):
            sem = Semester(year, half)
            assert reference_ecb_rate(sem) >= 0
            entry = table().ecb_entry(sem)
            assert entry is not None and entry.source and entry.read


def test_semester_accepts_a_day() -> None:
    assert reference_ecb_rate(date(2024, 6, 30)) == D("0.045")
    assert reference_ecb_rate(date(2024, 7, 1)) == D("0.0425")
    assert legal_rate(Semester(2025, 2)) == D("0.0276")


def test_reference_rate_is_the_one_in_force_on_the_first_day() -> None:
    # 2024-S2: 4,25 % since 12 June, not the 3,65 % of 18 September
    assert reference_ecb_rate("2024-S2") == D("0.0425")
    # 2025-S1: 3,15 % of 18 Dec 2024, not the three cuts of 2025-S1
    assert reference_ecb_rate("2025-S1") == D("0.0315")


def test_s2_2026_legal_rate_is_missing_never_guessed() -> None:
    with pytest.raises(RateMissingError) as exc:
        legal_rate("2026-S2")
    assert str(exc.value) == ("no legal interest rate for semester 2026-S2 in rates.yaml: "
                              "add it when the arrêté is published")
    with pytest.raises(RateMissingError, match="2027-S1"):
        reference_ecb_rate("2027-S1")
    with pytest.raises(RateMissingError, match="2026-S2"):
        legal_rate("2026-S2", "individual")


@pytest.mark.parametrize("semester", ["2015-S2", "2015-S1"])
def test_before_the_table(semester: str) -> None:
    with pytest.raises(RateMissingError, match=semester):
        reference_ecb_rate(semester)
    with pytest.raises(RateMissingError, match=semester):
        legal_rate(semester)


def test_bad_semester_and_creditor() -> None:
    with pytest.raises(RelanceError, match="not a semester"):
        legal_rate("2026-S3")
    with pytest.raises(RelanceError, match="unknown creditor"):
        legal_rate("2026-S1", "company")  # type: ignore[arg-type]


def test_packaged_table_is_well_formed() -> None:
    rates = table()
    assert [str(s) for s in rates.legal] == list(PUBLISHED)
    assert all(e.source and e.read for e in rates.ecb)
    assert all(e.source and e.read for e in rates.legal.values())
    assert [e.effective for e in rates.ecb] == sorted(e.effective for e in rates.ecb)
    assert rates.known_until >= date(2026, 7, 1)      # the MRO on 1 July 2026 is entered (issue 15)
    assert "HOW TO ADD A SEMESTER" in PACKAGED.read_text(encoding="utf-8").split("ecb_mro:")[0]


S2_2026 = """
  - semester: 2026-S2
    individual: "6.50"
    professional: "2.50"
    source: test
    read: 2026-06-30
"""


def _with_s2_2026(tmp_path: Path) -> Path:
    text = PACKAGED.read_text(encoding="utf-8").replace("known_until: 2026-02-05", "known_until: 2026-07-01")
    path = tmp_path / "rates.yaml"
    path.write_text(text + S2_2026, encoding="utf-8")
    return path


def test_env_override_adds_a_semester(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_RATES_FILE, str(_with_s2_2026(tmp_path)))
    assert legal_rate("2026-S2") == D("0.025")
    assert reference_ecb_rate("2026-S2") == D("0.024")
    st = compute(D("1000.00"), date(2026, 6, 15), date(2026, 7, 15), kind="b2c", notice=date(2026, 6, 20))
    assert [p["annual_rate"] for p in st.periods] == ["0.0262", "0.0250"]
    monkeypatch.delenv(ENV_RATES_FILE)
    with pytest.raises(RateMissingError):
        legal_rate("2026-S2")


def test_env_override_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_RATES_FILE, str(tmp_path / "nope.yaml"))
    with pytest.raises(RelanceError, match="cannot read the rate table"):
        legal_rate("2026-S1")


def _table(legal: str = "", ecb: str = "", known: str = "2026-02-05") -> str:
    ecb = ecb or """
    - {effective: 2023-09-20, mro: "4.50", source: s, read: 2026-02}
    - {effective: 2024-06-12, mro: "4.25", source: s, read: 2026-02}"""
    legal = legal or """
  - {semester: 2024-S1, individual: "8.01", professional: "5.07", source: s, read: 2026-02}"""
    return f"ecb_mro:\n  known_until: {known}\n  rates:{ecb}\nlegal_rates:{legal}\n"


def test_minimal_table_parses() -> None:
    rates = parse_table(_table(), "t.yaml")
    assert rates.legal_rate("2024-S1") == D("0.0507")
    assert rates.reference_ecb_rate("2024-S2") == D("0.0425")


@pytest.mark.parametrize(("text", "message"), [
    (_table(legal="""
  - {semester: 2024-S1, individual: "8.01", professional: "5.07", read: 2026-02}"""), "source"),
    (_table(legal="""
  - {semester: 2024-S1, individual: "8.01", professional: "5.07", source: s}"""), "read"),
    (_table(legal="""
  - {semester: 2024-S1, individual: "8.01", professional: "5.07", source: s, read: 2026-02}
  - {semester: 2024-S1, individual: "8.01", professional: "5.07", source: s, read: 2026-02}"""), "twice"),
    (_table(legal="""
  - {semester: 2024-H1, individual: "8.01", professional: "5.07", source: s, read: 2026-02}"""),
     "legal_rates[0]"),
    (_table(legal="""
  - {semester: 2024-S1, individual: "8,01", professional: "5.07", source: s, read: 2026-02}"""),
     "not a number"),
    (_table(legal="""
  - {semester: 2024-S1, individual: "801", professional: "5.07", source: s, read: 2026-02}"""), "plausible"),
    (_table(ecb="""
    - {effective: 2024-06-12, mro: "4.25", source: s, read: 2026-02}
    - {effective: 2023-09-20, mro: "4.50", source: s, read: 2026-02}"""), "is not after"),
    (_table(known="2024-01-01"), "before the last ECB decision"),
    ("ecb_mro: [unclosed\n", "line"),
    ("- just a list\n", "expected a mapping"),
])
def test_malformed_tables_name_the_entry(text: str, message: str) -> None:
    with pytest.raises(RelanceError, match=r"t\.yaml") as exc:
        parse_table(text, "t.yaml")
    assert message in str(exc.value)
