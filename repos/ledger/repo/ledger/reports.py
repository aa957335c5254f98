"""Summaries of a ledger."""
from .accounts import DEBIT
from .money import Money


def trial_balance(ledger, until=None):
    """(total of debit-side balances, total of credit-side balances); equal when books balance."""
    debit_total = credit_total = Money.zero(ledger.currency)
    for account in ledger.accounts.values():
        balance = ledger.balance(account.name, until)
        if account.normal_side == DEBIT:
            debit_total += balance
        else:
            credit_total += balance
    return debit_total, credit_total


def income_statement(ledger, until=None):
    income = sum((ledger.balance(a.name, until) for a in ledger.accounts_of_kind("income")),
                 Money.zero(ledger.currency))
    expenses = sum((ledger.balance(a.name, until) for a in ledger.accounts_of_kind("expense")),
                   Money.zero(ledger.currency))
    return {"income": income, "expenses": expenses, "net": income - expenses}
