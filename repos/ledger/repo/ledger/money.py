"""Money as an integer number of cents, so sums are exact."""
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

import attrs


@attrs.frozen(order=True)
class Money:
    cents: int = attrs.field(validator=attrs.validators.instance_of(int))
    currency: str = "USD"

    @classmethod
    def parse(cls, text, currency="USD"):
        try:
            amount = Decimal(str(text).replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"not an amount: {text!r}") from None
        cents = (amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        return cls(int(cents), currency)

    @classmethod
    def zero(cls, currency="USD"):
        return cls(0, currency)

    def _same(self, other):
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")
        return other

    def __add__(self, other):
        if self._same(other) is NotImplemented:
            return NotImplemented
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other):
        if self._same(other) is NotImplemented:
            return NotImplemented
        return Money(self.cents - other.cents, self.currency)

    def __neg__(self):
        return Money(-self.cents, self.currency)

    def __bool__(self):
        return self.cents != 0

    def split(self, parts):
        """Split into `parts` amounts differing by at most one cent, summing exactly."""
        if parts < 1:
            raise ValueError("parts must be at least 1")
        base, extra = divmod(self.cents, parts)
        return [Money(base + (1 if i < extra else 0), self.currency) for i in range(parts)]

    def __str__(self):
        sign = "-" if self.cents < 0 else ""
        whole, cents = divmod(abs(self.cents), 100)
        return f"{sign}{whole}.{cents:02d} {self.currency}"
