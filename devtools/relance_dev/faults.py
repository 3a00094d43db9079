"""Fault injection for the simulator and the fault tests, by wrapping what the dispatcher is given.

Product code carries no fault hook. :func:`installed` sets the wiring's dispatcher hook
(:func:`relance.wiring.set_dispatcher_hook`): every dispatcher the handlers build then gets its store,
channels and escalation starter wrapped. Nothing happens unless a point is armed (:func:`arm`):

- ``after_claim``: the dispatcher dies after claiming a message's invoices (a claim call that took one);
- ``after_send``: it dies after the message's channel sends (a channel's ``send`` returned or refused);
- ``after_record``: it dies after recording the sends (the store write that settles a claim).

The points are recognised by the kind of call, not by a line of ``dispatch.py``: a team task (a channel
send) or a flag record (a claim-settling write) made before the message's own claims also counts, so
on such a day the crash comes there; it is a crash the product must survive all the same.

The crash is raised at the dispatcher's next call of another kind (or when ``dispatch_customer``
returns), so the claims, sends or records of one grouped message all happen before it, as when a Lambda
dies between two phases. Nothing between two phases touches the outside world, so where exactly in the
gap the process dies cannot be observed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from relance import wiring
from relance.channels import Channel, ChannelRefused
from relance.dispatch import Dispatcher, DispatchReport

POINTS = ("after_claim", "after_send", "after_record")
_armed: Counter[str] = Counter()
_pending: list[tuple[str, str]] = []   # (point, kind of the calls it follows), at most one


class InjectedCrash(RuntimeError):
    """Raised at an armed point: stands for a Lambda that died there."""


class _Died(BaseException):
    """The crash inside the dispatcher: no ``except Exception`` of the product may catch it (a dead
    process runs no clean-up); :class:`_FaultyDispatcher` turns it into :class:`InjectedCrash`."""


def arm(point: str, times: int = 1) -> None:
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r} (one of {', '.join(POINTS)})")
    _armed[point] += times


def disarm_all() -> None:
    _armed.clear()
    _pending.clear()


def _before(kind: str) -> None:
    """A call of ``kind`` is about to be made: a crash pending from another phase happens now."""
    if _pending and _pending[0][1] != kind:
        raise _Died(_pending.pop()[0])


def _after(kind: str, point: str) -> None:
    """A call of ``kind`` completed: if ``point`` is armed, the process dies once this phase is over."""
    if _armed[point] > 0 and not _pending:
        _armed[point] -= 1
        _pending.append((point, kind))


class _Store:
    """The dispatcher's store: claims and claim-settling writes are observed, the rest passes through."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr) or name.endswith("_item"):   # item builders touch nothing outside
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            kind = ("claim" if name in ("claim", "claim_all")
                    else "record" if (name == "update_invoice_states" or kwargs.get("settle_claim")
                                      or kwargs.get("extra_items")) else "other")
            _before(kind)
            result = attr(*args, **kwargs)
            if kind == "claim" and (result is None or (name == "claim_all" and result)):   # a claim was taken
                _after(kind, "after_claim")
            elif kind == "record":
                _after(kind, "after_record")
            return result

        return call


class _Channel:
    """A channel whose ``send`` is observed (a refusal is a completed send: nothing went out)."""

    def __init__(self, inner: Channel) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def send(self, message: Any) -> Any:
        _before("send")
        try:
            receipt = self._inner.send(message)
        except ChannelRefused:
            _after("send", "after_send")
            raise
        _after("send", "after_send")
        return receipt


def _observed(kind: str, function: Callable[..., Any] | None) -> Callable[..., Any] | None:
    if function is None:
        return None

    def call(*args: Any, **kwargs: Any) -> Any:
        _before(kind)
        return function(*args, **kwargs)

    return call


class _FaultyDispatcher(Dispatcher):
    def dispatch_customer(self, customer_id: str, run_date: dt.date) -> DispatchReport:
        try:
            report = super().dispatch_customer(customer_id, run_date)
            _before("end")
            return report
        except _Died as died:
            raise InjectedCrash(f"injected crash at {died.args[0]}") from None
        finally:
            _pending.clear()


def wrap(dispatcher: Dispatcher) -> Dispatcher:
    """The same dispatcher, with its store, channels and escalation starter observed."""
    parts = {f.name: getattr(dispatcher, f.name) for f in dataclasses.fields(dispatcher)}
    channels: Mapping[str, Channel] = {name: _Channel(ch) for name, ch in dispatcher.channels.items()}
    parts.update(store=_Store(dispatcher.store), channels=channels,
                 start_escalation=_observed("other", dispatcher.start_escalation),
                 attachments=_observed("other", dispatcher.attachments))
    return _FaultyDispatcher(**parts)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Wrap every dispatcher the wiring builds in this process for the block (the embedded AWS uses it)."""
    wiring.set_dispatcher_hook(wrap)
    try:
        yield
    finally:
        wiring.set_dispatcher_hook(None)
