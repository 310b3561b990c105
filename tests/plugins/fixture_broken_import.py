"""A plugin whose import fails, as when its own dependency is not installed."""

import expsql_fixture_dependency_that_is_not_installed  # noqa: F401
