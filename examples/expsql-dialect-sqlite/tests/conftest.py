# The conformance kit's pytest plugin: its engine fixtures and DialectConformance.
pytest_plugins = ["expsql.testing.pytest_plugin"]
