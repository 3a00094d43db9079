"""relance.settings read from what template.yaml gives each function (via the embedded AWS)."""

from __future__ import annotations

import pytest

from relance.errors import RelanceError
from relance.settings import Settings
from relance_dev.embedded import EmbeddedAws


def test_every_function_can_read_its_settings(embedded: EmbeddedAws) -> None:
    for logical in embedded.functions:
        settings = Settings.from_env(embedded.function_env(logical))
        assert settings.table_name == embedded.resources["Table"]
        assert settings.due_shards == 1 and settings.approval_expiry_days == 7
        assert settings.default_policy == "standard"


def test_dispatch_has_its_resource_pointers(embedded: EmbeddedAws) -> None:
    settings = Settings.from_env(
        embedded.function_env("DispatchFunction"),
        require=("task_topic_arn", "LETTERS_BUCKET", "ses_configuration_set"),
    )
    assert settings.task_topic_arn == embedded.resources["TaskTopic"]
    assert settings.letters_bucket == embedded.resources["LettersBucket"]
    assert settings.sender_email == embedded.parameters["SenderEmail"]
    assert settings.company_iban.startswith("FR76")
    assert settings.queue_url is None
    assert settings.state_machine_arn == embedded.resources["EscalationStateMachine"]


def test_daily_run_has_the_queue(embedded: EmbeddedAws) -> None:
    settings = Settings.from_env(embedded.function_env("DailyRunFunction"), require=("queue_url",))
    assert settings.need("queue_url") == embedded.resources["WorkQueue"]
    with pytest.raises(RelanceError, match="STATE_MACHINE_ARN is not set"):   # the daily run starts no hand-off
        settings.need("state_machine_arn")


def test_missing_variable_is_named(embedded: EmbeddedAws) -> None:
    env = embedded.function_env("SesEventsFunction")
    del env["COMPANY_SIREN"]
    with pytest.raises(RelanceError, match="COMPANY_SIREN is not set"):
        Settings.from_env(env)
    with pytest.raises(RelanceError, match="QUEUE_URL is not set"):
        Settings.from_env(embedded.function_env("SesEventsFunction"), require=("queue_url",))


def test_bad_number_is_named(embedded: EmbeddedAws) -> None:
    env = {**embedded.function_env("DailyRunFunction"), "DUE_SHARDS": "eight"}
    with pytest.raises(RelanceError, match="DUE_SHARDS must be a positive integer"):
        Settings.from_env(env)


def test_read_at_call_time_from_os_environ(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in embedded.function_env("DailyRunFunction").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DUE_SHARDS", "16")
    assert Settings.from_env().due_shards == 16
    monkeypatch.delenv("TABLE_NAME")
    with pytest.raises(RelanceError, match="TABLE_NAME"):
        Settings.from_env()
