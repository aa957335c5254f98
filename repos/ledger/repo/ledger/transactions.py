"""Transactions: dated sets of postings whose debits equal their credits."""
import datetime

import attrs

from .accounts import CREDIT, DEBIT
from .money import Money


class UnbalancedTransaction(ValueError):
    pass


@attrs.frozen
class Posting:
    account: str
    side: str = attrs.field(validator=attrs.validators.in_((DEBIT, CREDIT)))
    amount: Money = attrs.field(validator=attrs.validators.instance_of(Money))

    def __attrs_post_init__(self):
        if self.amount.cents <= 0:
            raise ValueError(f"posting amounts must be positive, got {self.amount}")


def _to_date(value):
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


@attrs.frozen
class Transaction:
    date: datetime.date = attrs.field(converter=_to_date)
    memo: str
    postings: tuple = attrs.field(converter=tuple)

    def __attrs_post_init__(self):
        if len(self.postings) < 2:
            raise UnbalancedTransaction("a transaction needs at least two postings")
        debits = sum((p.amount for p in self.postings if p.side == DEBIT), Money.zero())
        credits = sum((p.amount for p in self.postings if p.side == CREDIT), Money.zero())
        if debits != credits:
            raise UnbalancedTransaction(f"{self.memo!r}: debits {debits} != credits {credits}")
