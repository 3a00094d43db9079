"""relance.settings read from what template.yaml gives each function (via the embedded AWS)."""

from __future__ import annotations

import pytest

from relance.errors import RelanceError
from relance.settings import Settings
from relance_dev.embedded import EmbeddedAws


def test_every_function_can_read_its_settings(embedded: EmbeddedAws) -> None:
    # Given every function deployed from the template
    for logical in embedded.functions:
        # When each reads its settings from its environment
        settings = Settings.from_env(embedded.function_env(logical))
        # Then each has the table, one shard, a seven-day approval expiry and the standard policy
        assert settings.table_name == embedded.resources["Table"]
        assert settings.due_shards == 1 and settings.approval_expiry_days == 7
        assert settings.default_policy == "standard"


def test_dispatch_has_its_resource_pointers(embedded: EmbeddedAws) -> None:
    # Given the dispatch function's environment; When its settings are read, requiring its pointers
    settings = Settings.from_env(
        embedded.function_env("DispatchFunction"),
        require=("task_topic_arn", "LETTERS_BUCKET", "ses_configuration_set"),
    )
    # Then they point at the task topic, the letters bucket, the sender and the company's IBAN
    assert settings.task_topic_arn == embedded.resources["TaskTopic"]
    assert settings.letters_bucket == embedded.resources["LettersBucket"]
    assert settings.sender_email == embedded.parameters["SenderEmail"]
    assert settings.company_iban.startswith("FR76")
    # And at the state machine, not at a queue
    assert settings.queue_url is None
    assert settings.state_machine_arn == embedded.resources["EscalationStateMachine"]


def test_daily_run_has_the_queue(embedded: EmbeddedAws) -> None:
    # Given the daily run's environment; When its settings are read, requiring the queue
    settings = Settings.from_env(embedded.function_env("DailyRunFunction"), require=("queue_url",))
    # Then the queue is the work queue
    assert settings.need("queue_url") == embedded.resources["WorkQueue"]
    # And it has no state machine, named when asked for
    with pytest.raises(RelanceError, match="STATE_MACHINE_ARN is not set"):   # the daily run starts no hand-off
        settings.need("state_machine_arn")


def test_missing_variable_is_named(embedded: EmbeddedAws) -> None:
    # Given the SES events function's environment without the company's SIREN
    env = embedded.function_env("SesEventsFunction")
    del env["COMPANY_SIREN"]
    # When its settings are read; Then the missing variable is named
    with pytest.raises(RelanceError, match="COMPANY_SIREN is not set"):
        Settings.from_env(env)
    # And so is a required one the function does not get
    with pytest.raises(RelanceError, match="QUEUE_URL is not set"):
        Settings.from_env(embedded.function_env("SesEventsFunction"), require=("queue_url",))


def test_bad_number_is_named(embedded: EmbeddedAws) -> None:
    # Given the daily run's environment with a shard count in words
    env = {**embedded.function_env("DailyRunFunction"), "DUE_SHARDS": "eight"}
    # When its settings are read; Then the variable is named
    with pytest.raises(RelanceError, match="DUE_SHARDS must be a positive integer"):
        Settings.from_env(env)


def test_read_at_call_time_from_os_environ(embedded: EmbeddedAws, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the daily run's environment in os.environ with 16 shards
    for key, value in embedded.function_env("DailyRunFunction").items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DUE_SHARDS", "16")
    # When the settings are read without an environment; Then they come from os.environ, at the call
    assert Settings.from_env().due_shards == 16
    # When a variable is removed
    monkeypatch.delenv("TABLE_NAME")
    # Then reading fails, naming it
    with pytest.raises(RelanceError, match="TABLE_NAME"):
        Settings.from_env()
