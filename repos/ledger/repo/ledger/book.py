"""The ledger: a chart of accounts and a journal of transactions."""
from .accounts import CREDIT, DEBIT, Account
from .money import Money
from .transactions import Posting, Transaction


class LedgerError(Exception):
    pass


class Ledger:
    def __init__(self, currency="USD"):
        self.currency = currency
        self.accounts = {}
        self.journal = []

    def open(self, name, kind):
        if name in self.accounts:
            raise LedgerError(f"account {name!r} already exists")
        account = Account(name, kind, self.currency)
        self.accounts[name] = account
        return account

    def post(self, transaction):
        for posting in transaction.postings:
            if posting.account not in self.accounts:
                raise LedgerError(f"unknown account {posting.account!r}")
            if posting.amount.currency != self.currency:
                raise LedgerError(f"{posting.amount} in a {self.currency} ledger")
        self.journal.append(transaction)
        return transaction

    def transfer(self, date, debit, credit, amount, memo=""):
        """Post a two-legged transaction: `amount` debited to one account, credited to another."""
        return self.post(Transaction(date, memo, [Posting(debit, DEBIT, amount),
                                                  Posting(credit, CREDIT, amount)]))

    def _totals(self, name, until=None):
        debits = credits = Money.zero(self.currency)
        for txn in self.journal:
            if until is not None and txn.date > until:
                continue
            for p in txn.postings:
                if p.account != name:
                    continue
                if p.side == DEBIT:
                    debits += p.amount
                else:
                    credits += p.amount
        return debits, credits

    def balance(self, name, until=None):
        """The balance in the account's normal direction (positive = what you'd expect)."""
        if name not in self.accounts:
            raise LedgerError(f"unknown account {name!r}")
        debits, credits = self._totals(name, until)
        if self.accounts[name].normal_side == DEBIT:
            return debits - credits
        return credits + debits

    def history(self, name):
        return [txn for txn in self.journal if any(p.account == name for p in txn.postings)]

    def accounts_of_kind(self, kind):
        return [a for a in self.accounts.values() if a.kind.value == kind]
