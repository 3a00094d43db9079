"""The rate check of each semester (law/ratecheck.py) on a recorded ECB Data Portal answer, never the network."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest

from relance.errors import RelanceError
from relance.law.ratecheck import check_semester, ecb_url, legal_entry, parse_ecb_csv, rate_in_force
from relance.law.rates import LegalRate, Semester, StoredEcbRate, clear_cache, legal_rate, table, use_stored

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "ecb" / "mrr_fr_2026-S2.csv"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    clear_cache()
    yield
    clear_cache()


class FakeStore:
    def __init__(self) -> None:
        self.ecb: list[StoredEcbRate] = []
        self.legal: list[LegalRate] = []
        self.alerts: set[tuple[str, str]] = set()

    def load(self) -> tuple[list[StoredEcbRate], list[LegalRate]]:
        return list(self.ecb), list(self.legal)

    def put_ecb(self, rate: StoredEcbRate) -> None:
        self.ecb.append(rate)

    def put_legal(self, rate: LegalRate) -> None:
        self.legal.append(rate)

    def claim_alert(self, semester: Semester, what: str) -> bool:
        key = (str(semester), what)
        if key in self.alerts:
            return False
        self.alerts.add(key)
        return True


def test_url_asks_the_mro_series_up_to_the_first_day() -> None:
    url = ecb_url(Semester(2026, 2))
    assert url.startswith("https://data-api.ecb.europa.eu/service/data/FM/D.U2.EUR.4F.KR.MRR_FR.LEV?")
    assert "format=csvdata" in url and "endPeriod=2026-07-01" in url and "startPeriod=2026-05-31" in url


def test_recorded_answer_gives_the_rate_in_force_on_1_july() -> None:
    observations = parse_ecb_csv(RECORDED.read_text(encoding="utf-8"))
    assert rate_in_force(observations, dt.date(2026, 7, 1)) == D("0.024")
    assert rate_in_force(observations, dt.date(2026, 6, 16)) == D("0.0215")
    assert rate_in_force(observations, dt.date(2026, 1, 1)) is None


@pytest.mark.parametrize("text", ["", "a,b\n1,2\n", "KEY,TIME_PERIOD,OBS_VALUE\nFM.D.U2.EUR.4F.KR.MRR_FR.LEV,x,1\n",
                                  "KEY,TIME_PERIOD,OBS_VALUE\nFM.D.U2.EUR.4F.KR.MRR_FR.LEV,2026-07-01,99\n",
                                  "KEY,TIME_PERIOD,OBS_VALUE\nFM.D.U2.EUR.4F.KR.DFR.LEV,2026-07-01,2\n"])
def test_bad_answers_are_one_line_errors(text: str) -> None:
    with pytest.raises(RelanceError):
        parse_ecb_csv(text)


def test_check_stores_the_ecb_rate_and_alerts_once_on_the_missing_legal_rate() -> None:
    store, tasks = FakeStore(), []
    result = check_semester(dt.date(2026, 7, 2), lambda url: RECORDED.read_text(encoding="utf-8"), store, store,
                            lambda sem, what: tasks.append((str(sem), what)))
    assert [(str(e.semester), e.rate) for e in store.ecb] == [("2026-S2", D("0.024"))]
    assert result.alerts == ["legal"] and len(tasks) == 1 and tasks[0][0] == "2026-S2"
    # the next run (retried schedule, or the dispatcher) does not alert again
    again = check_semester(dt.date(2026, 7, 3), lambda url: pytest.fail("already stored"), store, store,
                           lambda sem, what: tasks.append((str(sem), what)))
    assert again.alerts == [] and len(tasks) == 1 and again.missing == result.missing


def test_network_failure_alerts_only_when_nobody_knows_the_rate() -> None:
    def down(url: str) -> str:
        raise OSError("network unreachable")

    store, tasks = FakeStore(), []
    # 2026-S2: the packaged table knows the ECB rate (2,40 %): only the legal rate is missing
    result = check_semester(dt.date(2026, 7, 2), down, store, store, lambda s, w: tasks.append(w))
    assert tasks == ["legal: no legal interest rate for semester 2026-S2 in rates.yaml: add it when the "
                     "arrêté is published"]
    assert result.stored == []
    # 2027-S1: nobody knows either rate: two alerts, one per rate
    tasks.clear()
    result = check_semester(dt.date(2027, 1, 2), down, store, store, lambda s, w: tasks.append(w))
    assert sorted(result.alerts) == ["ecb", "legal"] and len(tasks) == 2


def test_stored_rates_complete_the_file() -> None:
    with pytest.raises(RelanceError):
        legal_rate("2026-S2")
    entry = legal_entry("2026-S2", "6.50", "2,50", "https://www.legifrance.gouv.fr/jorf/id/EXAMPLE",
                        dt.date(2026, 12, 4))
    use_stored([StoredEcbRate(Semester(2027, 1), D("0.024"), "ECB", "2027-01-02")], [entry])
    assert legal_rate("2026-S2") == D("0.025") and legal_rate("2026-S2", "individual") == D("0.065")
    assert table().reference_ecb_rate("2027-S1") == D("0.024")
    clear_cache()
    with pytest.raises(RelanceError):
        legal_rate("2026-S2")


@pytest.mark.parametrize(("individual", "other", "source", "message"), [
    ("2.50", "6.50", "https://x.example", "swapped"),
    ("abc", "2.5", "https://x.example", "not a percentage"),
    ("6.5", "45", "https://x.example", "plausible"),
    ("6.5", "2.5", "arrêté du 20 juin", "address"),
])
def test_rates_set_input_is_checked(individual: str, other: str, source: str, message: str) -> None:
    with pytest.raises(RelanceError, match=message):
        legal_entry("2026-S2", individual, other, source, dt.date(2026, 12, 4))
