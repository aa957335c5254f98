"""ledger: double-entry bookkeeping with exact money arithmetic."""
from .accounts import Account, AccountKind
from .book import Ledger, LedgerError
from .money import Money
from .reports import income_statement, trial_balance
from .transactions import Posting, Transaction, UnbalancedTransaction

__all__ = ["Account", "AccountKind", "Ledger", "LedgerError", "Money", "income_statement",
           "trial_balance", "Posting", "Transaction", "UnbalancedTransaction"]
