import pytest
from dynet_support import Env


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    try:
        yield e
    finally:
        problems = e.close()
    assert not problems, "\n".join(problems)
