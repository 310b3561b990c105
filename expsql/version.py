"""expsql's version, below every module that reports it (the HTML report, the REST service)."""

__version__ = "0.1.0"
