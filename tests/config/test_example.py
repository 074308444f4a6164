"""docs/example_run.yaml: generated from the config classes, so it lists every key at its
default with its description, and the committed file is what the generator writes now."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from ladabench.config import RunConfig, load_run_config
from ladabench.config.example import example_yaml, main

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "example_run.yaml"


def _fields(model: type[BaseModel], prefix: str = "") -> dict[str, str | None]:
    """key path → description of every field, nested sections included."""
    out = {}
    for name, field in model.model_fields.items():
        out[prefix + name] = field.description
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            out.update(_fields(field.annotation, f"{prefix}{name}."))
    return out


def test_the_committed_example_is_the_generated_one():
    assert EXAMPLE.read_text(encoding="utf-8") == example_yaml(), (
        "docs/example_run.yaml is stale: python -m ladabench.config.example docs/example_run.yaml")


def test_the_example_loads_as_the_defaults():
    assert load_run_config(EXAMPLE) == RunConfig()


def test_every_key_has_a_description_and_a_line_in_the_example():
    fields = _fields(RunConfig)
    assert [k for k, d in fields.items() if not d] == []
    text = example_yaml()
    for key in fields:
        assert f"{'  ' * key.count('.')}{key.rsplit('.', 1)[-1]}:" in text, key
    assert "# experiment trackers that receive every metrics.jsonl scalar" in text


def test_the_command_writes_the_file(tmp_path):
    main([str(tmp_path / "example.yaml")])
    assert (tmp_path / "example.yaml").read_text(encoding="utf-8") == example_yaml()
