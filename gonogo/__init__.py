"""gonogo: an honest go/no-go verdict on a proposal ticket, before the bid team spends weeks on it."""

# The single source of the version (pyproject reads it from here); a literal, because asking
# importlib.metadata costs ~80 ms on every command, --help included.
__version__ = "0.1.0"
