"""Accounts and which side (debit or credit) increases them."""
import enum

import attrs

DEBIT, CREDIT = "debit", "credit"


class AccountKind(enum.Enum):
    ASSET = "asset"
    EXPENSE = "expense"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"

    @property
    def normal_side(self):
        return DEBIT if self in (AccountKind.ASSET, AccountKind.EXPENSE) else CREDIT


@attrs.frozen
class Account:
    name: str = attrs.field(validator=attrs.validators.matches_re(r"[a-z][a-z0-9_:]*"))
    kind: AccountKind = attrs.field(converter=AccountKind)
    currency: str = "USD"

    @property
    def normal_side(self):
        return self.kind.normal_side
