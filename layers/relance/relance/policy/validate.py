"""Policy validation: every problem of a file, each as ``FILE:LINE: message``, never a traceback.

The validator walks the line-aware YAML tree (``loader``), builds the immutable ``Policy`` when the file is
valid, and otherwise raises ``PolicyError`` whose ``errors`` lists every problem in line order.
"""

from __future__ import annotations

import difflib
import os
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from relance import paths
from relance.calendar import is_supported_country, supported_subdivisions
from relance.errors import PolicyError
from relance.policy.actions import CHANNELS, PARTNERS, actions, template_files
from relance.policy.conditions import Condition, conditions, parse_policy_amount
from relance.policy.loader import LineDict, LineList, YamlProblem, parse_yaml
from relance.policy.model import PENALTIES_AFTER_PRINCIPAL, CalendarSpec, Policy, RouteEntry, Step

TOP_KEYS = ("name", "description", "timezone", "calendar", "min_gap_days", "min_balance",
            "penalties_after_principal", "one_message_per_day", "debtor_page", "steps")
CALENDAR_KEYS = ("country", "subdivision", "skip_weekends", "skip_holidays")
STEP_BASE_KEYS = ("id", "at", "action", "when")
ROUTE_KEYS = ("when", "partner")
APPROVALS = {"required": True, "none": False}
MAX_OFFSET_DAYS = 3650

NAME_RE = re.compile(r"^[a-z0-9_\-]{1,50}$")      # same rule as Customer.policy
STEP_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
TEMPLATE_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")  # a file name stem: no path, no dots
OFFSET_RE = re.compile(r"^due(?:([+-])(\d{1,4})d)?$")
LANGUAGE_RE = re.compile(r"^[a-z]{2}$")


def step_keys() -> tuple[str, ...]:
    keys = list(STEP_BASE_KEYS)
    for _, action in actions:
        keys += [k for k in action.allowed if k not in keys]
    return tuple(keys)


def parse_offset(text: Any) -> int | None:
    """``due-7d`` -> -7, ``due+15d`` -> 15, ``due`` -> 0; None when malformed."""
    if not isinstance(text, str):
        return None
    match = OFFSET_RE.match(text.strip())
    if not match:
        return None
    days = int(match.group(2) or 0)
    if days > MAX_OFFSET_DAYS:
        return None
    return -days if match.group(1) == "-" else days


class _Report:
    """Collects (line, message) problems of one file."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))

    def lines(self) -> list[str]:
        return [f"{self.source}:{line}: {message}"
                for line, message in sorted(self.items, key=lambda item: item[0])]

    def error(self) -> PolicyError:
        ordered = sorted(self.items, key=lambda item: item[0])
        line, message = ordered[0]
        if len(ordered) > 1:
            message += f" (and {len(ordered) - 1} more)"
        return PolicyError(message, where=f"{self.source}:{line}", errors=self.lines())


def _hint(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f"; expected one of: {', '.join(choices)}"


def _unknown_keys(mapping: LineDict, allowed: Sequence[str], where: str, report: _Report) -> None:
    for key in mapping:
        if key not in allowed:
            report.add(mapping.line_of(key), f"unknown key '{key}' in {where}{_hint(key, allowed)}")


def _string(mapping: LineDict, key: str, report: _Report, what: str) -> str | None:
    value = mapping.get(key)
    if not isinstance(value, str) or not value.strip():
        report.add(mapping.line_of(key), f"'{key}' {what} must be a non-empty string, not {value!r}")
        return None
    return value.strip()


def _bool(mapping: LineDict, key: str, default: bool, report: _Report) -> bool:
    value = mapping.get(key, default)
    if not isinstance(value, bool):
        report.add(mapping.line_of(key), f"'{key}' must be true or false, not {value!r}")
        return default
    return value


def parse_conditions(value: Any, line: int, where: str, report: _Report) -> tuple[Condition, ...]:
    """A ``when`` mapping -> condition objects (all must hold)."""
    if not isinstance(value, LineDict) or not value:
        report.add(line, f"'when' in {where} must be a mapping of conditions such as "
                         '{balance_gte: "50.00"}')
        return ()
    found: list[Condition] = []
    for key, raw in value.items():
        cls = conditions.get(key)
        if cls is None:
            report.add(value.line_of(key),
                       f"unknown condition '{key}' in {where}{_hint(key, conditions.names())}")
            continue
        try:
            found.append(cls(raw))
        except ValueError as exc:
            report.add(value.line_of(key), f"condition '{key}' in {where}: {exc}")
    return tuple(found)


def _calendar(value: Any, line: int, report: _Report) -> CalendarSpec:
    if not isinstance(value, LineDict):
        report.add(line, "'calendar' must be a mapping such as {country: FR, skip_weekends: true, "
                         "skip_holidays: true}")
        return CalendarSpec()
    _unknown_keys(value, CALENDAR_KEYS, "calendar", report)
    country = value.get("country", "FR")
    if not isinstance(country, str) or not is_supported_country(country):
        report.add(value.line_of("country"), f"unknown calendar country {country!r} (ISO code such as FR)")
        country = "FR"
    subdivision = value.get("subdivision")
    if isinstance(subdivision, int) and not isinstance(subdivision, bool):
        subdivision = str(subdivision)   # `subdivision: 57` means the department, quoted or not
    if subdivision is not None:
        known = supported_subdivisions(country)
        if not isinstance(subdivision, str) or subdivision not in known:
            report.add(value.line_of("subdivision"),
                       f"unknown subdivision {subdivision!r} for {country}; "
                       f"expected one of: {', '.join(known)}")
            subdivision = None
    return CalendarSpec(country=country, subdivision=subdivision,
                        skip_weekends=_bool(value, "skip_weekends", True, report),
                        skip_holidays=_bool(value, "skip_holidays", True, report))


def _route(step: LineDict, where: str, report: _Report) -> tuple[RouteEntry, ...]:
    value = step.get("route")
    line = step.line_of("route")
    if not isinstance(value, LineList) or not value:
        report.add(line, f"'route' of {where} must be a non-empty list of "
                         "{when: ..., partner: ...} entries")
        return ()
    entries: list[RouteEntry] = []
    catch_all_line: int | None = None
    for i, item in enumerate(value):
        item_line = value.line_of(i)
        if not isinstance(item, LineDict):
            report.add(item_line, f"route entry of {where} must be a mapping such as "
                                  "{partner: collection_agency}")
            continue
        _unknown_keys(item, ROUTE_KEYS, f"route entry of {where}", report)
        if catch_all_line is not None:
            report.add(item_line, f"route entry of {where} can never be chosen: the entry at line "
                                  f"{catch_all_line} has no 'when' and matches every case")
        partner = item.get("partner")
        if "partner" not in item:
            report.add(item_line, f"route entry of {where} has no 'partner' "
                                  f"(expected one of: {', '.join(PARTNERS)})")
        elif partner not in PARTNERS:
            report.add(item.line_of("partner"), f"unknown partner {partner!r} in {where}; expected one of: "
                                                f"{', '.join(PARTNERS)}")
        when: tuple[Condition, ...] = ()
        if "when" in item:
            when = parse_conditions(item["when"], item.line_of("when"), f"route of {where}", report)
        elif catch_all_line is None:
            catch_all_line = item_line
        if isinstance(partner, str):
            entries.append(RouteEntry(partner=partner, when=when))
    if catch_all_line is None:
        report.add(line, f"'route' of {where} needs a last entry without 'when' (such as "
                         "{partner: collection_agency}) so that every case has a partner")
    return tuple(entries)


def _channels(step: LineDict, where: str, report: _Report) -> tuple[str, ...]:
    value = step.get("channels")
    line = step.line_of("channels")
    if not isinstance(value, LineList) or not value:
        report.add(line, f"'channels' of {where} must be a non-empty list such as [email, sms]; "
                         f"channels: {', '.join(CHANNELS)}")
        return ()
    found: list[str] = []
    for i, channel in enumerate(value):
        if channel not in CHANNELS:
            report.add(value.line_of(i),
                       f"unknown channel {channel!r} in {where}{_hint(str(channel), CHANNELS)}")
        elif channel in found:
            report.add(value.line_of(i), f"channel '{channel}' is listed twice in {where}")
        else:
            found.append(channel)
    return tuple(found)


class _Templates:
    """Which template files exist, per language folder (listed once per validation)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.languages: dict[str, frozenset[str]] = {}
        if root.is_dir():
            for entry in sorted(root.iterdir()):
                if entry.is_dir() and LANGUAGE_RE.match(entry.name):
                    self.languages[entry.name] = frozenset(p.name for p in entry.iterdir() if p.is_file())

    def shown_root(self) -> str:
        try:
            return os.path.relpath(self.root)
        except ValueError:  # pragma: no cover - another drive on Windows
            return str(self.root)

    def check(self, template: str, channels: tuple[str, ...], line: int, where: str, report: _Report) -> None:
        needed = template_files(template, channels)
        for language, present in self.languages.items():
            missing = [f"{language}/{name}" for name in needed if name not in present]
            if missing:
                report.add(line, f"{where}: missing template {', '.join(missing)} (in {self.shown_root()})")


def _step(raw: Any, line: int, report: _Report, templates: _Templates | None,
          seen: dict[str, int]) -> Step | None:
    if not isinstance(raw, LineDict):
        report.add(line, "a step must be a mapping with at least 'id' and 'at'")
        return None
    ident = raw.get("id")
    where = f"step '{ident}'" if isinstance(ident, str) else f"step at line {raw.line}"
    _unknown_keys(raw, step_keys(), where, report)
    ok = True
    if "id" not in raw:
        report.add(raw.line, "step has no 'id'")
        ok = False
    elif not isinstance(ident, str) or not STEP_ID_RE.match(ident):
        report.add(raw.line_of("id"), f"step id {ident!r} must be a lowercase word (letters, digits, _)")
        ok = False
    elif ident in seen:
        report.add(raw.line_of("id"), f"duplicate step id '{ident}' (first at line {seen[ident]})")
        ok = False
    else:
        seen[ident] = raw.line_of("id")

    at_days = parse_offset(raw.get("at"))
    if "at" not in raw:
        report.add(raw.line, f"{where} has no 'at' (offset from the due date such as due+15d)")
    elif at_days is None:
        report.add(raw.line_of("at"), f"malformed offset {raw.get('at')!r} in {where}: expected due, "
                                      "due+Nd or due-Nd (such as due-7d, due+0d, due+15d), "
                                      f"N at most {MAX_OFFSET_DAYS}")

    action_name = raw.get("action", "send")
    action = actions.get(action_name) if isinstance(action_name, str) else None
    if action is None:
        report.add(raw.line_of("action"), f"unknown action {action_name!r} in {where}"
                                          f"{_hint(str(action_name), actions.names())}")
        return None
    for key in raw:
        if key not in STEP_BASE_KEYS and key in step_keys() and key not in action.allowed:
            article = "an" if action_name[:1] in "aeiou" else "a"
            report.add(raw.line_of(key), f"'{key}' is not allowed on {article} {action_name} step ({where})")
    for key in action.required:
        if key not in raw:
            report.add(raw.line, f"{where} ({action_name}) has no '{key}'")

    when = parse_conditions(raw["when"], raw.line_of("when"), where, report) if "when" in raw else ()
    channels: tuple[str, ...] = ()
    template: str | None = None
    approval = False
    route: tuple[RouteEntry, ...] = ()
    if action_name == "send":
        if "channels" in raw:
            channels = _channels(raw, where, report)
        template = ident if isinstance(ident, str) else None
        if "template" in raw:
            template = _string(raw, "template", report, f"of {where}")
            if template is not None and not TEMPLATE_RE.match(template):
                report.add(raw.line_of("template"), f"template {template!r} of {where} must be a file "
                                                    "name stem (lowercase letters, digits, _ and -)")
                template = None
        if templates is not None and template and channels:
            templates.check(template, channels, raw.line_of("template") if "template" in raw else raw.line,
                            where, report)
    elif action_name == "escalate":
        value = raw.get("approval", "required")
        if value not in APPROVALS:
            report.add(raw.line_of("approval"), f"'approval' of {where} must be 'required' or 'none', "
                                                f"not {value!r}")
        approval = APPROVALS.get(value, True) if isinstance(value, str) else True
        if "route" in raw:
            route = _route(raw, where, report)
    if not ok or at_days is None or not isinstance(ident, str):
        return None
    return Step(id=ident, at_days=at_days, channels=channels, template=template, action=action_name,
                approval=approval, route=route, when=when, line=raw.line)


def _build(tree: Any, source: str, report: _Report, templates: _Templates | None) -> Policy | None:
    if not isinstance(tree, LineDict):
        line = getattr(tree, "line", 1)
        report.add(line, "a policy must be a mapping with at least 'name' and 'steps'")
        return None
    _unknown_keys(tree, TOP_KEYS, "the policy", report)

    name = None
    if "name" not in tree:
        report.add(tree.line, "the policy has no 'name'")
    elif not isinstance(tree["name"], str) or not NAME_RE.match(tree["name"]):
        report.add(tree.line_of("name"), f"policy name {tree['name']!r} must be lowercase letters, digits, "
                                         "_ or - (at most 50)")
    else:
        name = tree["name"]

    description = ""
    if "description" in tree:
        description = _string(tree, "description", report, "of the policy") or ""

    timezone = "Europe/Paris"
    if "timezone" in tree:
        value = tree["timezone"]
        try:
            if not isinstance(value, str):
                raise ValueError
            zoneinfo.ZoneInfo(value)
            timezone = value
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            report.add(tree.line_of("timezone"),
                       f"unknown timezone {value!r} (IANA name such as Europe/Paris)")

    calendar = _calendar(tree["calendar"], tree.line_of("calendar"), report) if "calendar" in tree \
        else CalendarSpec()

    min_gap = tree.get("min_gap_days", 0)
    if isinstance(min_gap, bool) or not isinstance(min_gap, int) or not 0 <= min_gap <= 365:
        report.add(tree.line_of("min_gap_days"),
                   f"'min_gap_days' must be a whole number of days from 0 to 365, not {min_gap!r}")
        min_gap = 0

    one_message = tree.get("one_message_per_day", False)
    if not isinstance(one_message, bool):
        report.add(tree.line_of("one_message_per_day"),
                   f"'one_message_per_day' must be true or false, not {one_message!r}")
        one_message = False

    min_balance = Decimal("0.00")
    if "min_balance" in tree:
        try:
            min_balance = parse_policy_amount(tree["min_balance"])
        except ValueError as exc:
            report.add(tree.line_of("min_balance"), f"'min_balance': {exc}")

    after_principal = tree.get("penalties_after_principal", "waive")
    if after_principal not in PENALTIES_AFTER_PRINCIPAL:
        report.add(tree.line_of("penalties_after_principal"),
                   f"'penalties_after_principal' must be claim or waive, not {after_principal!r}")
        after_principal = "waive"
    debtor = _debtor_page(tree, report)

    steps: list[Step] = []
    raw_steps = tree.get("steps")
    if "steps" not in tree:
        report.add(tree.line, "the policy has no 'steps'")
    elif not isinstance(raw_steps, LineList) or not raw_steps:
        report.add(tree.line_of("steps"), "'steps' must be a non-empty list of steps")
    else:
        if templates is not None and not templates.languages:
            report.add(tree.line_of("steps"), f"no language folder (fr, en) in the templates directory "
                                              f"{templates.shown_root()}")
        seen: dict[str, int] = {}
        previous: Step | None = None
        for i, raw in enumerate(raw_steps):
            step = _step(raw, raw_steps.line_of(i), report, templates, seen)
            if step is None:
                continue
            if previous is not None and step.at_days < previous.at_days:
                report.add(raw.line_of("at"),
                           f"step '{step.id}' at {raw['at']} comes before the previous step "
                           f"'{previous.id}' at {previous.at}: list steps in the order they fire")
            previous = step
            steps.append(step)

    if report.items or name is None:
        return None
    return Policy(name=name, steps=tuple(steps), description=description, timezone=timezone,
                  min_gap_days=min_gap, min_balance=min_balance, calendar=calendar, source=source,
                  penalties_after_principal=after_principal, one_message_per_day=one_message, **debtor)


def _debtor_page(tree: Any, report: _Report) -> dict[str, int]:
    """``debtor_page: {paid_pause_days: 7, promise_max_days: 30}`` (both optional, whole days 1-90)."""
    if "debtor_page" not in tree:
        return {}
    section = tree["debtor_page"]
    if not isinstance(section, dict):
        report.add(tree.line_of("debtor_page"), "'debtor_page' must be a mapping "
                                                "(paid_pause_days, promise_max_days)")
        return {}
    found: dict[str, int] = {}
    for key, value in section.items():
        line = section.line_of(key) if hasattr(section, "line_of") else tree.line_of("debtor_page")
        if key not in ("paid_pause_days", "promise_max_days"):
            report.add(line, f"unknown key {key!r} in 'debtor_page' (paid_pause_days, promise_max_days)")
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 90:
            report.add(line, f"'debtor_page.{key}' must be a whole number of days from 1 to 90, not {value!r}")
        else:
            found[key] = value
    return found


def _check(text: str, source: str, check_templates: bool) -> tuple[Policy | None, _Report]:
    report = _Report(source)
    try:
        tree, problems = parse_yaml(text)
    except YamlProblem as exc:
        report.add(exc.line, exc.message)
        return None, report
    for problem in problems:
        report.add(problem.line, problem.message)
    if tree is None:
        report.add(1, "the file is empty: expected a policy with 'name' and 'steps'")
        return None, report
    templates = _Templates(paths.templates_dir()) if check_templates else None
    policy = _build(tree, source, report, templates)
    return (None if report.items else policy), report


def load_policy_text(text: str, name: str = "<policy>", *, check_templates: bool = True) -> Policy:
    """Parse and validate a policy given as text; ``name`` is how errors name the file."""
    policy, report = _check(text, name, check_templates)
    if policy is None:
        raise report.error()
    return policy


def _read(path: Path | str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PolicyError("not a UTF-8 text file", where=str(path)) from None
    except OSError as exc:
        raise PolicyError(f"cannot read ({exc.strerror or exc})", where=str(path)) from None


def load_policy(path: Path | str, *, check_templates: bool = True) -> Policy:
    """Load one policy file. Raises PolicyError listing every ``FILE:LINE: message``.

    ``check_templates`` also checks that every template the steps need exists in every language folder of
    ``relance.paths.templates_dir()``.
    """
    return load_policy_text(_read(path), str(path), check_templates=check_templates)


def validate_text(text: str, name: str = "<policy>", *, check_templates: bool = True) -> list[str]:
    """Every problem of a policy text as ``NAME:LINE: message``; [] when valid."""
    _, report = _check(text, name, check_templates)
    return report.lines()


def validate_files(files: Iterable[Path | str], *, check_templates: bool = True) -> list[str]:
    """Every problem of every file, in file then line order; [] when all are valid."""
    errors: list[str] = []
    for path in files:
        try:
            text = _read(path)
        except PolicyError as exc:
            errors.extend(exc.errors)
            continue
        errors.extend(validate_text(text, str(path), check_templates=check_templates))
    return errors


def load_policies(directory: Path | str | None = None, *, check_templates: bool = True) -> dict[str, Policy]:
    """Every ``*.yaml``/``*.yml`` policy of ``directory`` (default ``relance.paths.policies_dir()``), keyed by
    policy name. Raises PolicyError listing the problems of every file (two files with one name included)."""
    root = Path(directory) if directory is not None else paths.policies_dir()
    if not root.is_dir():
        raise PolicyError("is not a directory of policies", where=str(root))
    found: dict[str, Policy] = {}
    errors: list[str] = []
    for path in sorted([*root.glob("*.yaml"), *root.glob("*.yml")]):
        try:
            policy = load_policy(path, check_templates=check_templates)
        except PolicyError as exc:
            errors.extend(exc.errors)
            continue
        if policy.name in found:
            errors.append(f"{path}:1: policy name '{policy.name}' is already used by "
                          f"{found[policy.name].source}")
            continue
        found[policy.name] = policy
    if errors:
        raise PolicyError(errors[0], errors=errors)
    return found
