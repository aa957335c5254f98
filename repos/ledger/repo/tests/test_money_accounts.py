import pytest

from ledger import Account, Money, Posting, Transaction, UnbalancedTransaction


def test_parse_and_format():
    assert Money.parse("1,234.5").cents == 123450
    assert str(Money.parse("-0.07")) == "-0.07 USD"


def test_parse_rounds_half_even():
    assert Money.parse("0.125").cents == 12
    assert Money.parse("0.135").cents == 14


def test_arithmetic():
    assert Money(150) + Money(50) == Money(200)
    assert Money(150) - Money(200) == Money(-50)


def test_currencies_do_not_mix():
    with pytest.raises(ValueError):
        Money(1, "USD") + Money(1, "EUR")


def test_split_is_exact():
    parts = Money.parse("10.00").split(3)
    assert [p.cents for p in parts] == [334, 333, 333]


def test_money_is_validated_by_attrs():
    with pytest.raises(TypeError):
        Money(1.5)


def test_account_names_validated():
    Account("cash", "asset")
    with pytest.raises(ValueError):
        Account("Bad Name", "asset")
    with pytest.raises(ValueError):
        Account("cash", "mystery")


def test_unbalanced_transaction_rejected():
    with pytest.raises(UnbalancedTransaction):
        Transaction("2024-01-01", "oops", [Posting("cash", "debit", Money(100)),
                                           Posting("sales", "credit", Money(99))])
