"""Named conditions for a step's ``when`` (and a route entry's ``when``).

A ``when`` mapping with several keys holds when every condition holds. Each condition is a small class:
``validate`` turns the YAML value into a typed one (or raises ValueError with a message for the user),
``test`` answers for one invoice on one day, ``schema`` is the JSON-schema fragment of the value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from relance.errors import ValidationError
from relance.money import parse_amount
from relance.policy.registry import Registry
from relance.policy.state import CustomerContext

AMOUNT_HINT = 'amount must be a quoted decimal string such as "50.00"'
AMOUNT_SCHEMA: dict[str, Any] = {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}
CUSTOMER_KINDS = ("b2b", "b2c", "public")


def parse_policy_amount(raw: Any) -> Decimal:
    """A policy amount: a quoted decimal string. ``50.0`` or ``50`` are refused, floats lose cents."""
    if not isinstance(raw, str):
        raise ValueError(f"{AMOUNT_HINT}, not {raw!r}")
    try:
        return parse_amount(raw, allow_zero=True)
    except ValidationError as exc:
        raise ValueError(exc.message) from None


def _int(raw: Any, minimum: int, maximum: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueError(f"expected a whole number, not {raw!r}")
    if not minimum <= raw <= maximum:
        raise ValueError(f"expected a whole number between {minimum} and {maximum}, not {raw}")
    return raw


class Condition:
    """Base of the conditions. Instances are immutable and compare by (name, value)."""

    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]]
    __slots__ = ("value",)

    def __init__(self, raw: Any) -> None:
        self.value = type(self).validate(raw)

    @classmethod
    def validate(cls, raw: Any) -> Any:  # pragma: no cover - every condition overrides it
        raise NotImplementedError

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:  # pragma: no cover
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and type(other) is type(self) and other.value == self.value

    def __hash__(self) -> int:
        return hash((self.name, repr(self.value)))

    def __repr__(self) -> str:
        return f"{self.name}({self.value!r})"


conditions: Registry[Condition] = Registry("condition")


class _AmountCondition(Condition):
    __slots__ = ()
    schema: ClassVar[dict[str, Any]] = AMOUNT_SCHEMA

    @classmethod
    def validate(cls, raw: Any) -> Decimal:
        return parse_policy_amount(raw)


@conditions.register("balance_gte")
class BalanceGte(_AmountCondition):
    """The invoice balance (what remains due on it) is at least this amount.

    ```yaml
    when: {balance_gte: "50.00"}
    ```
    """

    __slots__ = ()

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return bool(balance >= self.value)


@conditions.register("balance_lte")
class BalanceLte(_AmountCondition):
    """The invoice balance is at most this amount.

    ```yaml
    when: {balance_lte: "150.00"}
    ```
    """

    __slots__ = ()

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return bool(balance <= self.value)


@conditions.register("case_balance_gte")
class CaseBalanceGte(_AmountCondition):
    """The case balance is at least this amount: what is owed on the invoices of the case (the customer's
    open overdue invoices due for the step together), disputed and paused invoices excluded.

    ```yaml
    when: {case_balance_gte: "1000.00"}
    ```
    """

    __slots__ = ()

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return bool(ctx.case_balance >= self.value)


@conditions.register("case_balance_lte")
class CaseBalanceLte(_AmountCondition):
    """The case balance is at most this amount: what is owed on the invoices of the case (the customer's
    open overdue invoices due for the step together), disputed and paused invoices excluded.

    ```yaml
    route:
      - when: {case_balance_lte: "5000.00"}
        partner: commissaire_de_justice
      - partner: collection_agency
    ```
    """

    __slots__ = ()

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return bool(ctx.case_balance <= self.value)


@conditions.register("customer_kind")
class CustomerKindIs(Condition):
    """The customer is of this kind (`b2b`, `b2c`, `public`), or of one of a list of kinds.

    ```yaml
    when: {customer_kind: [b2b, public]}
    ```
    """

    __slots__ = ()
    schema: ClassVar[dict[str, Any]] = {"oneOf": [
        {"enum": list(CUSTOMER_KINDS)},
        {"type": "array", "items": {"enum": list(CUSTOMER_KINDS)}, "minItems": 1, "uniqueItems": True},
    ]}

    @classmethod
    def validate(cls, raw: Any) -> frozenset[str]:
        kinds = [raw] if isinstance(raw, str) else raw
        if not isinstance(kinds, list) or not kinds:
            raise ValueError(f"expected a customer kind or a list of them ({', '.join(CUSTOMER_KINDS)})")
        for kind in kinds:
            if kind not in CUSTOMER_KINDS:
                raise ValueError(f"unknown customer kind {kind!r}: expected one of "
                                 f"{', '.join(CUSTOMER_KINDS)}")
        return frozenset(kinds)

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return ctx.kind in self.value


@conditions.register("segment_in")
class SegmentIn(Condition):
    """The customer's segment is one of these (a customer without a segment never matches).

    ```yaml
    when: {segment_in: [key_account, strategic]}
    ```
    """

    __slots__ = ()
    schema: ClassVar[dict[str, Any]] = {"type": "array", "items": {"type": "string", "minLength": 1},
                                        "minItems": 1, "uniqueItems": True}

    @classmethod
    def validate(cls, raw: Any) -> frozenset[str]:
        if not isinstance(raw, list) or not raw:
            raise ValueError("expected a list of segments such as [key_account]")
        for item in raw:
            if not isinstance(item, str) or not item:
                raise ValueError(f"segment {item!r} must be a non-empty string")
        return frozenset(raw)

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return ctx.segment in self.value


@conditions.register("overdue_invoices_gte")
class OverdueInvoicesGte(Condition):
    """The customer has at least this many open overdue invoices.

    ```yaml
    when: {overdue_invoices_gte: 2}
    ```
    """

    __slots__ = ()
    schema: ClassVar[dict[str, Any]] = {"type": "integer", "minimum": 1, "maximum": 100000}

    @classmethod
    def validate(cls, raw: Any) -> int:
        return _int(raw, 1, 100000)

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return bool(ctx.overdue_invoices >= self.value)


@conditions.register("days_overdue_gte")
class DaysOverdueGte(Condition):
    """The invoice is at least this many days past its due date on the day the step would go out.

    ```yaml
    when: {days_overdue_gte: 20}
    ```
    """

    __slots__ = ()
    schema: ClassVar[dict[str, Any]] = {"type": "integer", "minimum": -3650, "maximum": 3650}

    @classmethod
    def validate(cls, raw: Any) -> int:
        return _int(raw, -3650, 3650)

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return bool(days_overdue >= self.value)


@conditions.register("days_overdue_lte")
class DaysOverdueLte(Condition):
    """The invoice is at most this many days past its due date (negative: before it) on the day the step
    would go out. Keeps a step from going out late, e.g. a courtesy reminder for an invoice imported late.

    ```yaml
    when: {days_overdue_lte: -1}
    ```
    """

    __slots__ = ()
    schema: ClassVar[dict[str, Any]] = {"type": "integer", "minimum": -3650, "maximum": 3650}

    @classmethod
    def validate(cls, raw: Any) -> int:
        return _int(raw, -3650, 3650)

    def test(self, balance: Decimal, ctx: CustomerContext, days_overdue: int) -> bool:
        return bool(days_overdue <= self.value)
