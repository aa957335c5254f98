from ledger import Ledger, Money, Posting, Transaction, income_statement, trial_balance


def make_book():
    b = Ledger()
    for name, kind in [("cash", "asset"), ("bank", "asset"), ("card", "liability"),
                       ("capital", "equity"), ("sales", "income"), ("fees", "expense")]:
        b.open(name, kind)
    b.transfer("2024-01-01", "bank", "capital", Money.parse("1000.00"), "start")
    b.transfer("2024-01-05", "cash", "sales", Money.parse("80.00"), "sale 1")
    b.transfer("2024-01-06", "bank", "sales", Money.parse("120.00"), "sale 2")
    b.transfer("2024-01-07", "sales", "cash", Money.parse("30.00"), "refund")
    b.transfer("2024-01-08", "fees", "card", Money.parse("45.50"), "fees on card")
    b.transfer("2024-01-20", "card", "bank", Money.parse("40.00"), "pay card")
    return b


def test_refund_reduces_income():
    assert make_book().balance("sales") == Money.parse("170.00")


def test_partial_card_payment():
    assert make_book().balance("card") == Money.parse("5.50")


def test_overpaid_card_goes_negative():
    b = make_book()
    b.transfer("2024-01-25", "card", "bank", Money.parse("10.00"), "overpay")
    assert b.balance("card") == Money.parse("-4.50")


def test_books_balance_after_every_transaction():
    b = make_book()
    for txn in b.journal:
        debit_side, credit_side = trial_balance(b, until=txn.date)
        assert debit_side == credit_side, txn.memo


def test_income_statement_after_refund():
    stmt = income_statement(make_book())
    assert stmt == {"income": Money.parse("170.00"), "expenses": Money.parse("45.50"),
                    "net": Money.parse("124.50")}


def test_split_transaction():
    b = make_book()
    b.post(Transaction("2024-02-01", "split", [
        Posting("card", "debit", Money.parse("5.50")),
        Posting("fees", "debit", Money.parse("1.00")),
        Posting("cash", "credit", Money.parse("6.50")),
    ]))
    assert b.balance("card") == Money.zero()
    assert b.balance("cash") == Money.parse("43.50")
    assert trial_balance(b)[0] == trial_balance(b)[1]
