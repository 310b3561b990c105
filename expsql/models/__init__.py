"""The experiment definition, shared by the library, the CLI and the REST API.

- :mod:`.experiment` — :class:`Experiment` (its options, dates, windows, readouts) and reading it
  from a file or a mapping (:func:`load_experiment`, :func:`validate_experiment`)
- :mod:`.metric`     — :class:`Metric`, :class:`Check` and :class:`Filter`
- :mod:`.keys`       — :class:`KnownKeysOnly`: a key no model declares is refused, with the closest
"""

from expsql.files import read_mapping
from expsql.grammar.ast import Dimension
from expsql.models.experiment import (
    Experiment,
    Inference,
    Prior,
    Sequential,
    expression_error_in,
    load_experiment,
    validate_experiment,
)
from expsql.models.keys import KnownKeysOnly, unknown_keys_message
from expsql.models.metric import Check, Filter, FilterValue, Identifier, Metric
from expsql.windows import AttributionWindow

__all__ = [
    "AttributionWindow",
    "Check",
    "Dimension",
    "Experiment",
    "Filter",
    "FilterValue",
    "Identifier",
    "Inference",
    "KnownKeysOnly",
    "Metric",
    "Prior",
    "Sequential",
    "expression_error_in",
    "load_experiment",
    "read_mapping",
    "unknown_keys_message",
    "validate_experiment",
]
