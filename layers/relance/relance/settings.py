"""Settings of a deployed function, read from its environment (set by template.yaml).

Read them at call time with ``Settings.from_env()``, never at import time: the embedded AWS and
the tests set the environment per invocation. ``Settings`` is a frozen pydantic model: the types of the
fields are checked, a bad value is a one-line RelanceError naming its variable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from relance.errors import RelanceError


class Settings(BaseModel):
    """What every function knows about its deployment. Each field is read from ``FIELD_NAME`` upper-cased.

    The fields without a default are set in the template's ``Globals`` (every function has them);
    the resource pointers with ``None`` default are set only on the functions that use them; ask
    for them with :meth:`need`, or with ``from_env(require=...)``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str
    company_name: str
    company_siren: str
    company_address: str
    company_iban: str
    company_bic: str
    sender_email: str
    reply_to_email: str
    team_email: str
    approver_email: str
    sms_sender_id: str
    default_policy: str
    due_shards: int
    approval_expiry_days: int
    queue_url: str | None = None
    task_topic_arn: str | None = None
    letters_bucket: str | None = None
    ses_configuration_set: str | None = None
    state_machine_arn: str | None = None
    # What the letters say about the creditor (C. com. R123-237) and the consumer mediator (C. consom. L616-1);
    # optional: a letter leaves out what is not set.
    company_legal_form: str | None = None
    company_share_capital: str | None = None
    company_rcs_city: str | None = None
    company_signatory: str | None = None
    company_signatory_title: str | None = None
    mediator_name: str | None = None
    mediator_address: str | None = None
    mediator_website: str | None = None

    @staticmethod
    def env_name(field_name: str) -> str:
        """The environment variable of a field (``queue_url`` -> ``QUEUE_URL``)."""
        return field_name.upper()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, require: Iterable[str] = ()) -> Settings:
        """Read the settings from ``environ`` (``os.environ`` when omitted, read now).

        ``require`` names optional fields this caller cannot do without (``"queue_url"`` or
        ``"QUEUE_URL"``). Raises :class:`RelanceError` naming the first missing or invalid variable.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, spec in cls.model_fields.items():
            var = cls.env_name(name)
            raw = env.get(var, "").strip()
            if not raw:
                if not spec.is_required():
                    values[name] = None
                    continue
                raise RelanceError(f"environment variable {var} is not set", where="settings")
            values[name] = _positive_int(var, raw) if spec.annotation in ("int", int) else raw
        try:
            settings = cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            var = cls.env_name(str(first["loc"][0])) if first.get("loc") else "?"
            raise RelanceError(f"environment variable {var}: {first['msg']}", where="settings") from None
        for name in require:
            settings.need(name.lower())
        return settings

    def need(self, field_name: str) -> str:
        """The value of an optional field, or :class:`RelanceError` naming its variable when unset."""
        if field_name not in type(self).model_fields:
            raise RelanceError(f"unknown setting {field_name}", where="settings")
        value = getattr(self, field_name)
        if value is None or value == "":
            raise RelanceError(
                f"environment variable {self.env_name(field_name)} is not set", where="settings"
            )
        return str(value)


def _positive_int(var: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise RelanceError(
            f"environment variable {var} must be a positive integer, got {raw!r}", where="settings"
        )
    return value
