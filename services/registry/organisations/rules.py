"""Plain rules about organisations, testable without HTTP, a database or the bus."""

from __future__ import annotations

# Weights of the check digit of Kazakhstan's 12-digit identification numbers (IIN/BIN):
# a second pass with shifted weights is used when the first gives 10; a result of 10
# again means the number cannot be valid.
_FIRST_WEIGHTS = tuple(range(1, 12))
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def bin_check_digit(first_eleven: str) -> int | None:
    digits = [int(c) for c in first_eleven]
    check = sum(d * w for d, w in zip(digits, _FIRST_WEIGHTS, strict=True)) % 11
    if check == 10:
        check = sum(d * w for d, w in zip(digits, _SECOND_WEIGHTS, strict=True)) % 11
        if check == 10:
            return None
    return check


def bin_problem(value: str) -> str | None:
    """Why ``value`` is not a valid BIN, or None if it is."""
    if len(value) != 12 or not value.isdigit():
        return "a BIN has exactly 12 digits"
    expected = bin_check_digit(value[:11])
    if expected is None or expected != int(value[11]):
        return "the check digit (12th) does not match the first 11 digits"
    return None


def make_bin(first_eleven: str) -> str | None:
    """The full BIN for 11 leading digits, or None if no check digit exists (used for demo data)."""
    check = bin_check_digit(first_eleven)
    return None if check is None else first_eleven + str(check)
