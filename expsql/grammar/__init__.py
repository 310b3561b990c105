"""The metric language's grammar, ``metric.lark``, shipped as package data."""
