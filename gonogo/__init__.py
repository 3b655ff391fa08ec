"""gonogo: an honest go/no-go verdict on a proposal ticket, before the bid team spends weeks on it."""

# The single source of the version (pyproject reads it); a literal: importlib.metadata costs ~80 ms.
__version__ = "0.1.0"
