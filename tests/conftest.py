"""Test-wide configuration: shared fixtures live in tests/fixtures/ as plugins."""

from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.sandbox", "tests.fixtures.store"]

REPO = Path(__file__).resolve().parent.parent
REFDATA = REPO.parent / "shared" / "refdata"


@pytest.fixture(scope="session")
def refdata() -> Path:
    """The recorded vendor responses; tests that need them skip only where the folder is absent."""
    if not REFDATA.is_dir():
        pytest.skip("../shared/refdata is absent on this checkout")
    return REFDATA


@pytest.fixture(autouse=True)
def _no_real_sleep(monkeypatch):
    """Nothing sleeps for real: retry waits go through connector.clock.sleep, recorded here."""
    slept: list[float] = []
    try:
        import connector.clock as clock
    except ImportError:  # pragma: no cover - before the clock module exists
        yield slept
        return
    monkeypatch.setattr(clock, "sleep", lambda seconds: slept.append(seconds))
    yield slept
