"""What a step does. A step without ``action`` sends; ``escalate`` hands the case over.

Each action declares the step keys it requires and allows; the validator refuses the others (a ``route`` on
a send step is a mistake, not something to ignore).
"""

from __future__ import annotations

from typing import Any, ClassVar

from relance.policy.registry import Registry

CHANNELS = ("email", "sms", "letter", "task")
PARTNERS = ("collection_agency", "commissaire_de_justice", "avocat")   # avocat: public buyers (CJA R541-1)


class Action:
    name: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    allowed: ClassVar[tuple[str, ...]] = ()


actions: Registry[Action] = Registry("action")


@actions.register("send")
class Send(Action):
    """Send the step's template by every channel listed (the default when `action` is omitted).

    The template files are looked up in `letter_templates/<lang>/` for every language: email needs
    `<template>.subject.j2`, `.txt.j2` and `.html.j2`; sms `<template>.sms.j2`; letter `<template>.subject.j2`
    and `.letter.j2`; task `<template>.task.j2`. `template` defaults to the step id.

    ```yaml
    - id: firm
      at: due+15d
      channels: [email, sms]
      template: firm
    ```
    """

    required = ("channels",)
    allowed = ("channels", "template")


@actions.register("escalate")
class Escalate(Action):
    """Hand the case to a partner (`collection_agency`, `commissaire_de_justice`, or `avocat` for public buyers,
    whose claims go before the administrative judge: référé-provision, CJA R541-1), after a person approves
    it when `approval: required` (the default; `approval: none` hands over at once). `route` is tried in
    order: the first entry whose `when` holds gives the partner; the last entry must have no `when`.

    ```yaml
    - id: handoff
      at: due+50d
      action: escalate
      approval: required
      route:
        - when: {customer_kind: public}
          partner: avocat
        - when: {case_balance_lte: "5000.00"}
          partner: commissaire_de_justice
        - partner: collection_agency
    ```
    """

    required = ("route",)
    allowed = ("route", "approval")


TEMPLATE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "email": ("subject", "txt", "html"),
    "sms": ("sms",),
    "letter": ("subject", "letter"),
    "task": ("task",),
}


def template_files(template: str, channels: tuple[str, ...]) -> list[str]:
    """File names (in one language folder) that the channels of a step need, without duplicates."""
    names: list[str] = []
    for channel in channels:
        for suffix in TEMPLATE_SUFFIXES[channel]:
            name = f"{template}.{suffix}.j2"
            if name not in names:
                names.append(name)
    return names


def action_schema() -> dict[str, Any]:
    return {"enum": actions.names(), "default": "send"}
