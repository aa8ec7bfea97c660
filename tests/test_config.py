from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agora_node.config import apply_environment, load_settings, settings_from_dict
from agora_node.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_example_config_loads_and_documents_every_key() -> None:
    settings = load_settings(REPO / "config.example.toml")
    assert settings.instance.registration in ("closed", "open", "approval")
    text = (REPO / "config.example.toml").read_text()
    # Every key is preceded by a comment line.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[i - 1].lstrip().startswith("#"), f"undocumented key: {line}"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"instance": {"colour": "red"}}, "instance.colour: unknown setting"),
        ({"nonsense": {}}, "nonsense: unknown section"),
        ({"server": {"port": "80"}}, "server.port: expected an integer"),
        ({"server": {"port": 70000}}, "server.port: must be between 0 and 65535"),
        ({"federation": {"connect_timeout": 0}}, "federation.connect_timeout: must be > 0"),
        ({"federation": {"allowed_networks": ["banana"]}}, "federation.allowed_networks"),
        ({"federation": {"plain_http_hosts": "x"}}, "federation.plain_http_hosts: expected a list"),
        ({"instance": {"registration": "maybe"}}, "instance.registration: must be one of"),
        ({"server": {"log_json": 1}}, "server.log_json: expected true or false"),
        (
            {"instance": {"domain": "a.example", "base_url": "https://b.example"}},
            "instance.domain: must equal the host",
        ),
        ({"instance": {"base_url": "ftp://x", "domain": "x"}}, "instance.base_url"),
        ({"delivery": {"concurrency": 0}}, "delivery.concurrency: must be >= 1"),
    ],
)
def test_bad_settings_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_dict(raw)
    assert message in err.value.public_message


def test_relative_database_path_is_relative_to_config(tmp_path: Path) -> None:
    cfg = tmp_path / "conf" / "node.toml"
    cfg.parent.mkdir()
    cfg.write_text('[database]\npath = "data/x.db"\n')
    assert load_settings(cfg).database.path == str(tmp_path / "conf" / "data" / "x.db")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agora_node.cli", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.e2e
def test_check_config_cli(tmp_path: Path) -> None:
    good = _cli("--config", str(REPO / "config.example.toml"), "check-config")
    assert good.returncode == 0, good.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nport = "eighty"\n')
    result = _cli("--config", str(bad), "check-config")
    assert result.returncode == 2
    assert "server.port: expected an integer" in result.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    result = _cli("--config", str(broken), "check-config")
    assert result.returncode == 2 and "not valid TOML" in result.stderr
    missing = _cli("--config", str(tmp_path / "nope.toml"), "check-config")
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_environment_twins_set_their_keys_and_are_checked(tmp_path: Path) -> None:
    base = settings_from_dict({})
    assert base.server.loop_monitor == "" and base.server.loop_monitor_callbacks is False
    env = {"AGORA_LOOP_MONITOR": str(tmp_path / "lag.json"), "AGORA_LOOP_MONITOR_CALLBACKS": "1"}
    on = apply_environment(base, env)
    assert on.server.loop_monitor == str(tmp_path / "lag.json")
    assert on.server.loop_monitor_callbacks is True
    assert apply_environment(base, {}) == base
    with pytest.raises(ConfigError, match="AGORA_LOOP_MONITOR_CALLBACKS"):
        apply_environment(base, {"AGORA_LOOP_MONITOR_CALLBACKS": "yes please"})
    config = tmp_path / "agora.toml"
    config.write_text('[server]\nloop_monitor = "from-file.json"\n')
    assert load_settings(config).server.loop_monitor == "from-file.json"
