"""`relance simulate` comes from the development package: registered when it is importable, absent in the layer."""

from __future__ import annotations

import sys

import pytest

from relance import cli


def _commands() -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices or ())


class _NoDevPackage:
    """An import finder for which relance_dev does not exist."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname.partition(".")[0] == "relance_dev":
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname.partition(".")[0])


def test_simulate_is_registered_from_the_dev_package() -> None:
    assert "simulate" in _commands()


def test_without_the_dev_package_the_other_commands_remain(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "relance_dev" or m.startswith("relance_dev.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoDevPackage(), *sys.meta_path])   # as in the layer
    commands = _commands()
    assert "simulate" not in commands
    assert {"policy", "penalties"} <= commands


def test_a_broken_dev_package_is_an_error_not_a_missing_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "DEV_COMMAND_MODULES", ("relance_dev.no_such_module",))
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser()
