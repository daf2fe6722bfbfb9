"""What the stability tests share (test_stability*.py): the floating-point error state they run scratch under."""

#: an overflow, a division by zero or an invalid operation (a NaN made) anywhere in scratch raises. Underflow is
#: left ignored (NumPy's default): e^{-2e4} rounding to 0 is the correctly rounded result, and softmax over ±1e4
#: logits cannot avoid it (torch's does the same).
RAISE = {"all": "raise", "under": "ignore"}
