"""Every example runs end to end on a tiny budget."""

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_with_a_tiny_budget(path, capsys):
    module = _load(path)
    module.main(module.TINY_ARGS)  # each example declares the arguments of its smoke test
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"
