"""One embedded AWS for many tests: deployed once, emptied between tests, redeployed only when needed.

Deploying template.yaml into moto costs one to several seconds; most tests only need the resources to
exist and to be empty. :class:`SharedEmbeddedAws` keeps one deployment (its own ``mock_aws``) and, before
handing it to the next test, empties what tests write: table items, bucket objects (every version),
queue messages, SES and SNS sent lists, Step Functions executions (running ones stopped), and resets the
:class:`EmbeddedAws` object (``extra_env``, imported handler modules, cached clients). A test that changed
the infrastructure itself (a resource created, deleted or reconfigured: see :func:`fingerprint`) gets
the deployment thrown away, and the next test a fresh one, so tests stay independent.

:func:`relance_dev.embedded.embedded_aws` (a private deployment) closes the shared one first: moto's
backends are process-wide, two deployments of the same stack cannot coexist.

Emptying and the fingerprint read moto's backend objects directly (public module-level ``*_backends``,
but private stores inside them: ``Queue._messages``, ``Queue._pending_messages``, ``Topic._policy_json``,
``FakeBucket.multiparts``...). They are tied to the pinned moto: :func:`_backends` checks the version
first, and a store that moved raises :class:`relance_dev.embedded.moto_internals.PatchError` naming it.
What is fragile: a new moto store of sent or written data that :func:`empty` does not know would leak
from one test into the next without any error; the version check is what guards against that.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from typing import Any, cast

from relance_dev.embedded.embedded import MOTO_CONFIG, EmbeddedAws
from relance_dev.embedded.moto_internals import check_version, reading_stores

_WHAT = "emptying the shared embedded AWS (relance_dev.embedded.shared)"


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _backends(aws: EmbeddedAws) -> dict[str, Any]:
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    check_version(_WHAT)
    a, r = aws.account_id, aws.region
    return {"dynamodb": dynamodb_backends[a][r], "s3": s3_backends[a]["aws"], "sqs": sqs_backends[a][r],
            "sns": sns_backends[a][r], "ses": ses_backends[a][r], "sfn": stepfunctions_parser_backends[a][r],
            "secrets": secretsmanager_backends[a][r]}


def fingerprint(aws: EmbeddedAws) -> str:
    """The infrastructure's configuration (not its data): equal before and after a test that only used it."""
    b = _backends(aws)
    with reading_stores(_WHAT):
        state = _configuration(b)
    state["resources"] = aws.resources
    return _digest(state)


def _configuration(b: dict[str, Any]) -> dict[str, Any]:
    return {
        "tables": {n: (t.schema, t.attr, [i.name for i in t.global_indexes], t.ttl, t.stream_specification,
                       t.billing_mode, t.deletion_protection_enabled) for n, t in b["dynamodb"].tables.items()},
        "buckets": {n: (x.policy, x.versioning_status, x.rules, x.public_access_block, x.encryption,
                        x.notification_configuration, x.ownership_rule) for n, x in b["s3"].buckets.items()},
        "queues": {n: (q.visibility_timeout, q.redrive_policy, q._policy_json, q.delay_seconds)
                   for n, q in b["sqs"].queues.items()},
        "topics": {n: (t._policy_json, t.delivery_policy) for n, t in b["sns"].topics.items()},
        "subscriptions": sorted(b["sns"].subscriptions), "opt_out": sorted(b["sns"].opt_out_numbers),
        "sms": b["sns"].sms_attributes,
        "ses": (sorted(b["ses"].config_sets), sorted(b["ses"].email_identities),
                sorted(map(str, b["ses"].event_destinations))),
        "machines": {m.arn: m.definition for m in b["sfn"].state_machines},
        "secrets": {n: (s.default_version_id, s.secret_string, s.deleted_date)
                    for n, s in b["secrets"].secrets.items()},
    }


def _stop_executions(aws: EmbeddedAws, sfn: Any, timeout: float = 30.0, quiet: float = 0.2) -> None:
    """Stop every running execution and wait until none of them can still write.

    A stop only asks the execution's thread to end: the task it is running (a handler, in-process) goes
    on and may write to the table, send mail or publish; emptying before that would let the previous
    test's last task write into the next test's data. An execution parked on a task token never ends
    after a stop (moto waits for the token until the task's timeout), but it runs nothing either: once
    no handler has been running for ``quiet`` seconds, what is still RUNNING is such a parked one.
    """
    running = [e for m in sfn.state_machines for e in m.executions if e.status == "RUNNING"]
    for execution in running:
        with contextlib.suppress(Exception):
            sfn.stop_execution(execution.execution_arn)
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None
    while any(e.status == "RUNNING" for e in running):
        now = time.monotonic()
        if aws.invocations_in_flight:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= quiet:
            return
        if now > deadline:
            names = ", ".join(e.name for e in running if e.status == "RUNNING")
            raise RuntimeError(f"a handler still runs {timeout:.0f} s after its executions were stopped: {names}")
        time.sleep(0.01)


def empty(aws: EmbeddedAws) -> None:
    """Remove what tests wrote, keep every resource and its configuration."""
    from relance import runtime
    from relance.escalation import approvals

    b = _backends(aws)
    with reading_stores(_WHAT):
        _clear_stores(aws, b)
    aws.extra_env = {}
    if aws.iam is not None:
        aws.iam.denied.clear()      # what a test was refused is that test's
    aws._modules.clear()            # handlers imported afresh, as after a new deployment
    runtime.reset_clients()
    approvals.forget_keys()


def _clear_stores(aws: EmbeddedAws, b: dict[str, Any]) -> None:
    """What tests wrote, out of moto's stores (the resources and their configuration stay)."""
    _stop_executions(aws, b["sfn"])      # first: a stopped execution's last task may still be writing
    for table in b["dynamodb"].tables.values():
        table.items.clear()
        for shard in [table.stream_shard] if table.stream_shard is not None else []:
            shard.items.clear()
    for bucket in b["s3"].buckets.values():
        bucket.keys.clear()
        bucket.multiparts.clear()
    for queue in b["sqs"].queues.values():
        queue._messages.clear()
        queue._pending_messages.clear()
        queue.deleted_messages.clear()
    b["sns"].sms_messages.clear()
    for topic in b["sns"].topics.values():
        topic.sent_notifications.clear()
    b["ses"].sent_messages.clear()
    for counter in ("sent_message_count", "rejected_messages_count"):
        getattr(b["ses"], counter)  # raises if moto renamed it: setting it would silently make a new one
        setattr(b["ses"], counter, 0)
    for machine in b["sfn"].state_machines:
        machine.executions.clear()


class SharedEmbeddedAws:
    """The deployment :meth:`get` hands out; :meth:`close` tears it down (end of session, or a private
    deployment about to start)."""

    def __init__(self) -> None:
        self._stack: contextlib.ExitStack | None = None
        self._aws: EmbeddedAws | None = None
        self._fingerprint = ""
        self.deployments = 0

    def get(self) -> EmbeddedAws:
        if self._aws is not None and fingerprint(self._aws) == self._fingerprint:
            empty(self._aws)
            return self._aws
        self.close()
        from moto import mock_aws

        from relance_dev import faults
        from relance_dev.embedded.embedded import fake_aws_environment
        from relance_dev.embedded.iam import enforce

        stack = contextlib.ExitStack()
        try:
            stack.enter_context(fake_aws_environment())
            stack.enter_context(mock_aws(config=cast(Any, MOTO_CONFIG)))
            stack.enter_context(faults.installed())
            aws = EmbeddedAws.deploy()
            stack.enter_context(enforce(aws))   # each handler runs with its own role (RELANCE_IAM=off: not)
            stack.enter_context(aws.in_process_lambdas())
        except BaseException:
            stack.close()
            raise
        self._stack, self._aws = stack, aws
        self._fingerprint = fingerprint(aws)
        self.deployments += 1
        empty(aws)
        return aws

    def close(self) -> None:
        stack, self._stack, self._aws = self._stack, None, None
        if stack is not None:
            stack.close()


SHARED = SharedEmbeddedAws()
"""The process's shared deployment (tests/conftest.py's ``embedded`` fixture)."""
