"""The `slow` marker: tests against a real model server (see test_real_server.py)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: needs a real model server installed by tests/model/install_llama.sh")
