"""Imports every command module, so each registers itself on :data:`expsql.cli.app`."""

from expsql.cli import check as check_command  # noqa: F401
from expsql.cli import compile as compile_command  # noqa: F401
from expsql.cli import demo as demo_command  # noqa: F401
from expsql.cli import dialects as dialects_command  # noqa: F401
from expsql.cli import evaluate as evaluate_command  # noqa: F401
from expsql.cli import metrics as metrics_command  # noqa: F401
from expsql.cli import results as results_command  # noqa: F401
from expsql.cli import run as run_command  # noqa: F401
from expsql.cli import serve as serve_command  # noqa: F401
