import sys
from pathlib import Path

import pytest

from tongban.testkit import *  # noqa: F403 - the test kit's fixtures

# Lets the tests run before the plugin is installed (pip install -e . makes this unneeded).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture
def tongban_plugins():
    import tongban_example_connector

    return [tongban_example_connector]


@pytest.fixture
def people(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("id_number,name,district\n"
                    "110101199003070012,王芳,东城区\n"
                    "310104198512120036,李强,徐汇区\n", encoding="utf-8")
    return path
