"""Business days: weekends and public holidays (France by default, from the ``holidays`` package).

The engine asks these questions for every invoice of every daily run, so answers are cached: the holiday set
once per (calendar, year), ``next_business_day`` once per (calendar, date).

Alsace-Moselle (departments 57 Moselle, 67 Bas-Rhin, 68 Haut-Rhin) adds Good Friday and 26 December; the
``holidays`` package knows them as subdivisions ``57`` and ``6AE``, we also accept ``67`` and ``68``.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

# ``holidays`` (~20 ms to import, every country's module) is imported by the functions that read it:
# handlers that never ask for a business day do not pay for it at their cold start.

# Department numbers people actually write -> the subdivision code of the ``holidays`` package.
_SUBDIVISION_ALIASES = {("FR", "67"): "6AE", ("FR", "68"): "6AE"}


def supported_subdivisions(country: str) -> tuple[str, ...]:
    """Subdivision codes accepted for ``country`` (ours, the package's and its aliases); () if unknown."""
    import holidays

    supported = holidays.list_supported_countries().get(country)
    if supported is None:
        return ()
    names = list(supported)
    entity = getattr(holidays, country, None)
    names += list(getattr(entity, "subdivisions_aliases", {}) or {})
    names += [sub for (c, sub) in _SUBDIVISION_ALIASES if c == country]
    return tuple(sorted(set(names)))


def is_supported_country(country: str) -> bool:
    import holidays

    return country in holidays.list_supported_countries()


class BusinessCalendar:
    """Which days are business days for one (country, subdivision, weekend/holiday rule)."""

    __slots__ = ("_holidays", "_next", "country", "skip_holidays", "skip_weekends", "subdivision")

    def __init__(self, country: str = "FR", subdivision: str | None = None, *,
                 skip_weekends: bool = True, skip_holidays: bool = True) -> None:
        self.country = country
        self.subdivision = subdivision
        self.skip_weekends = skip_weekends
        self.skip_holidays = skip_holidays
        self._holidays: dict[int, frozenset[dt.date]] = {}
        self._next: dict[dt.date, dt.date] = {}

    def __repr__(self) -> str:
        return (f"BusinessCalendar({self.country!r}, {self.subdivision!r}, "
                f"skip_weekends={self.skip_weekends}, skip_holidays={self.skip_holidays})")

    def holidays_in(self, year: int) -> frozenset[dt.date]:
        """Public holidays of ``year`` (empty when holidays are not skipped)."""
        found = self._holidays.get(year)
        if found is None:
            if self.skip_holidays:
                import holidays

                subdiv = _SUBDIVISION_ALIASES.get((self.country, self.subdivision or ""), self.subdivision)
                found = frozenset(holidays.country_holidays(self.country, subdiv=subdiv, years=year))
            else:
                found = frozenset()
            self._holidays[year] = found
        return found

    def is_business_day(self, day: dt.date) -> bool:
        if self.skip_weekends and day.weekday() >= 5:
            return False
        return not (self.skip_holidays and day in self.holidays_in(day.year))

    def next_business_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a business day, else the first business day after it."""
        found = self._next.get(day)
        if found is None:
            found = day
            while not self.is_business_day(found):
                found += dt.timedelta(days=1)
            self._next[day] = found
        return found


@lru_cache(maxsize=64)
def calendar_for(country: str = "FR", subdivision: str | None = None, skip_weekends: bool = True,
                 skip_holidays: bool = True) -> BusinessCalendar:
    """The shared (cached) calendar for these settings."""
    return BusinessCalendar(country, subdivision, skip_weekends=skip_weekends, skip_holidays=skip_holidays)


def is_business_day(day: dt.date, subdivision: str | None = None) -> bool:
    """Whether ``day`` is neither a weekend nor a French public holiday (of ``subdivision`` if given)."""
    return calendar_for("FR", subdivision).is_business_day(day)


def next_business_day(day: dt.date, subdivision: str | None = None) -> dt.date:
    """``day`` if it is a French business day, else the next one."""
    return calendar_for("FR", subdivision).next_business_day(day)
