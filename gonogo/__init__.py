"""gonogo: an honest go/no-go verdict on a proposal ticket, before the bid team spends weeks on it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gonogo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
