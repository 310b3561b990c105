"""The metric language, the pipeline's first stage: text → AST, below every other package.

- ``metric.lark``  — the LALR grammar, shipped as package data
- :mod:`.parse`    — :func:`~.parse.parse_expression`: the grammar's parse tree → the AST, errors
  with line, column and caret
- :mod:`.ast`      — the AST: frozen dataclasses with spans
- :mod:`.names`    — names as the grammar spells them; ep-stats' goal-name metrics as expressions
"""
