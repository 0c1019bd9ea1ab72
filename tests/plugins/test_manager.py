"""The plugin manager: installed packages found through the tongban.plugins entry-point group
(first-party plugins the same way as anyone's), a misspelled hook stops the start, a name
registered twice is refused, and PLUGINS from the environment names modules."""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest

from tongban.config import ConfigError, load
from tongban.extend.manager import PluginConflict, build
from tongban.plugin_api import hookimpl
from tongban.testkit import health_of, start_app


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    """A folder on sys.path where a test "installs" a package: its module and a dist-info
    with the entry point, the way pip leaves them."""
    site = tmp_path / "site"
    site.mkdir()
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield site
    sys.path.remove(str(site))
    for name in [n for n in sys.modules if n.startswith("tongban_fake_")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def _install(site: Path, module: str, code: str, version: str = "1.2.0") -> None:
    (site / f"{module}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    info = site / f"{module.replace('_', '-')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\n"
                                   f"Version: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[tongban.plugins]\n{module[13:]} = {module}\n",
                                           encoding="utf-8")


def test_an_installed_package_is_loaded_from_the_entry_point_group(
        installed: Path, tmp_path: Path, tongban_database: str) -> None:
    _install(installed, "tongban_fake_archive", """
        from tongban.plugin_api import HealthReport, hookimpl

        @hookimpl
        def tongban_health(settings):
            return HealthReport("ok", "archive answers")
        """)
    app = start_app([], tongban_database, tmp_path / "instance", {"PLUGIN_ENTRY_POINTS": True})
    status = health_of(app, "archive")
    assert (status.version, status.origin) == ("1.2.0", "package tongban-fake-archive")
    assert status.location == str(installed)
    assert (status.state, status.hooks) == ("ok", ["tongban_health"])


def test_entry_points_are_not_loaded_when_the_setting_says_so(
        installed: Path, tmp_path: Path, tongban_database: str) -> None:
    _install(installed, "tongban_fake_quiet", "")
    app = start_app([], tongban_database, tmp_path / "instance")
    with pytest.raises(LookupError, match="no plugin named 'quiet' is registered"):
        health_of(app, "quiet")


def test_a_misspelled_hook_stops_the_start() -> None:
    class Typo:
        PLUGIN_NAME = "typo"

        @hookimpl
        def tongban_healht(self, settings):  # type: ignore[no-untyped-def]
            return None

    with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'tongban_healht'"):
        build([Typo()], entry_points=False)


def test_a_hook_asking_for_an_argument_the_spec_has_not_stops_the_start() -> None:
    class Greedy:
        PLUGIN_NAME = "greedy"

        @hookimpl
        def tongban_health(self, settings, request):  # type: ignore[no-untyped-def]
            return None

    with pytest.raises(pluggy.PluginValidationError, match="request"):
        build([Greedy()], entry_points=False)


def test_two_plugins_of_one_name_are_refused() -> None:
    class One:
        PLUGIN_NAME = "same"

    with pytest.raises(PluginConflict, match="two plugins are named 'same'"):
        build([One(), One()], entry_points=False)


def test_plugins_named_in_the_environment_are_imported(tmp_path: Path) -> None:
    config = load(tmp_path, tmp_path, environ={"TONGBAN_PLUGINS": "json, tongban_null_signer"})
    assert [m.__name__ for m in config["PLUGINS"]] == ["json", "tongban_null_signer"]
    with pytest.raises(ConfigError, match="Setting TONGBAN_PLUGINS \\(from environment\\) is "
                                          "invalid: cannot import plugin module 'no_such_mod'"):
        load(tmp_path, tmp_path, environ={"TONGBAN_PLUGINS": "no_such_mod"})


def test_two_packages_announcing_one_plugin_name_are_refused(
        installed: Path, tmp_path: Path, tongban_database: str) -> None:
    _install(installed, "tongban_fake_twin", "")
    info = installed / "tongban-fake-other-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tongban-fake-other\n"
                                   "Version: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[tongban.plugins]\ntwin = tongban_fake_twin\n",
                                           encoding="utf-8")
    with pytest.raises(PluginConflict, match="packages 'tongban-fake-(twin|other)' and "
                                             "'tongban-fake-(twin|other)' both announce a "
                                             "plugin named 'twin'"):
        build([], entry_points=True)


def test_a_plugins_object_named_like_an_installed_package_is_refused(installed: Path) -> None:
    _install(installed, "tongban_fake_named", "")

    class Impostor:
        PLUGIN_NAME = "named"

    with pytest.raises(PluginConflict, match="a plugin named 'named' is registered already, "
                                             "and package 'tongban-fake-named' announces another"):
        build([Impostor()], entry_points=True)
    import tongban_fake_named  # type: ignore[import-not-found]

    tongban_fake_named.PLUGIN_NAME = "named"
    assert build([tongban_fake_named], entry_points=True).has_plugin("named")  # itself: fine
