"""The hostile suite grades its whole corpus once per session (about 2 minutes on 2 cores)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "hostile: grades hostile submissions through the sandbox (deselect with -m 'not hostile')",
    )
