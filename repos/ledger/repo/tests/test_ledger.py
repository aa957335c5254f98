import datetime

import pytest

from ledger import Ledger, LedgerError, Money, income_statement, trial_balance


@pytest.fixture
def book():
    b = Ledger()
    for name, kind in [("cash", "asset"), ("loan", "liability"), ("capital", "equity"),
                       ("sales", "income"), ("rent", "expense")]:
        b.open(name, kind)
    b.transfer("2024-01-01", "cash", "capital", Money.parse("500.00"), "owner invests")
    b.transfer("2024-01-02", "cash", "loan", Money.parse("1000.00"), "borrow")
    b.transfer("2024-01-10", "cash", "sales", Money.parse("300.00"), "sale")
    b.transfer("2024-01-31", "rent", "cash", Money.parse("200.00"), "rent")
    return b


def test_asset_balance(book):
    assert book.balance("cash") == Money.parse("1600.00")


def test_credit_accounts_without_debits(book):
    assert book.balance("loan") == Money.parse("1000.00")
    assert book.balance("sales") == Money.parse("300.00")


def test_repaying_a_loan_reduces_it(book):
    book.transfer("2024-02-01", "loan", "cash", Money.parse("250.00"), "repay")
    assert book.balance("loan") == Money.parse("750.00")
    assert book.balance("cash") == Money.parse("1350.00")


def test_balance_until_date(book):
    assert book.balance("cash", until=datetime.date(2024, 1, 5)) == Money.parse("1500.00")


def test_trial_balance_balances(book):
    book.transfer("2024-02-01", "loan", "cash", Money.parse("100.00"), "repay")
    debit_side, credit_side = trial_balance(book)
    assert debit_side == credit_side


def test_income_statement(book):
    stmt = income_statement(book)
    assert stmt["net"] == Money.parse("100.00")


def test_unknown_account(book):
    with pytest.raises(LedgerError):
        book.transfer("2024-03-01", "cash", "nowhere", Money(1))
    with pytest.raises(LedgerError):
        book.balance("nowhere")


def test_duplicate_account(book):
    with pytest.raises(LedgerError):
        book.open("cash", "asset")


def test_history(book):
    assert [t.memo for t in book.history("loan")] == ["borrow"]
