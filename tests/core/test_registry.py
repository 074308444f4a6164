import pytest

from ladabench.core.errors import RegistryError
from ladabench.core.registry import Registry


def test_register_and_get():
    reg: Registry = Registry("widget")

    @reg.register()
    def spinner():
        return 1

    assert reg.get("spinner") is spinner
    assert "spinner" in reg and reg.names() == ["spinner"]


def test_duplicate_name_raises():
    reg: Registry = Registry("widget")
    reg.register("a")(object)
    with pytest.raises(RegistryError, match="'a' is already registered"):
        reg.register("a")(int)


def test_bad_name_raises():
    reg: Registry = Registry("widget")
    with pytest.raises(RegistryError, match=r"\[a-z0-9_\]"):
        reg.register("Bad-Name")(object)


def test_unknown_lists_choices_and_near_match():
    reg: Registry = Registry("widget")
    for n in ("lada", "linformer"):
        reg.register(n)(object)
    with pytest.raises(RegistryError) as e:
        reg.get("linformr")
    msg = str(e.value)
    assert "unknown widget 'linformr'" in msg
    assert "did you mean 'linformer'" in msg
    assert "available: lada, linformer" in msg


def test_check_runs_at_registration():
    def only_types(obj):
        if not isinstance(obj, type):
            raise TypeError("not a class")

    reg: Registry = Registry("widget", check=only_types)
    with pytest.raises(TypeError):
        reg.register("f")(lambda: None)
    assert len(reg) == 0
