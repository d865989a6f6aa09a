"""Issue 14.7: `make test` sets up its own browser tools: as root it installs
chromium (and npm only when npm is missing); otherwise it prints the command."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="needs make")


def fake_bin(tmp_path: Path, *, uid: int, have: tuple[str, ...]) -> Path:
    """A PATH holding only a shell, a fake `id`, a recording `apt-get` and the
    tools named in `have`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sh").symlink_to(shutil.which("sh"))
    scripts = {
        "id": f"#!{shutil.which('sh')}\necho {uid}\n",
        "apt-get": f'#!{shutil.which("sh")}\necho "$@" >> {tmp_path / "apt.log"}\n',
    }
    scripts |= {tool: f"#!{shutil.which('sh')}\nexit 0\n" for tool in have}
    for name, body in scripts.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def run(tmp_path: Path, *, uid: int, have: tuple[str, ...] = ()):
    bin_dir = fake_bin(tmp_path, uid=uid, have=have)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    return subprocess.run(
        [
            MAKE,
            "--no-print-directory",
            "-s",
            "test-tools",
            "SHELL=" + str(bin_dir / "sh"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def apt_calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "apt.log"
    return log.read_text().splitlines() if log.exists() else []


def test_as_root_it_installs_chromium_and_npm_when_both_are_missing(tmp_path):
    result = run(tmp_path, uid=0)
    assert result.returncode == 0, result.stderr
    assert apt_calls(tmp_path)[-1] == "install -y -qq chromium npm"


def test_as_root_it_leaves_an_existing_npm_alone(tmp_path):
    result = run(tmp_path, uid=0, have=("npm",))
    assert result.returncode == 0, result.stderr
    assert apt_calls(tmp_path)[-1] == "install -y -qq chromium"


def test_with_everything_there_it_installs_nothing(tmp_path):
    result = run(tmp_path, uid=0, have=("npm", "chromium"))
    assert result.returncode == 0
    assert apt_calls(tmp_path) == []


def test_not_root_it_prints_the_exact_command_and_stops(tmp_path):
    result = run(tmp_path, uid=1000, have=("npm",))
    assert result.returncode != 0
    assert "sudo apt-get install -y chromium" in result.stdout
    assert apt_calls(tmp_path) == []
