"""Scenario discovery (PRIM) on a sweep store: a known box is recovered; bad requests refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sim import sweep
from sim.cli import app
from sim.discover import discover
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
FLOORS = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
LEVEL = 4.0  # USD/h, far above the no-floor median (about 2.5)


@pytest.fixture(scope="module")
def floor_store(tmp_path_factory) -> Path:
    """A grid of an absolute pay floor, two replicates a point, tiny runs."""
    folder = tmp_path_factory.mktemp("discover")
    spec = {
        "base": str(ROOT / "scenarios" / "baseline.yaml"),
        "overrides": {"weeks": 16, "burn_in_weeks": 4, "population.taskers": 1500,
                      "policy.pay_floor.kind": "absolute"},
        "seed": 3,
        "replicates": 2,
        "design": {"kind": "grid", "parameters": {"policy.pay_floor.usd_per_hour": FLOORS}},
        "outcomes": ["median_effective_hourly_pay_usd", "labels_human"],
    }
    path = folder / "floor.yaml"
    path.write_text(yaml.safe_dump(spec))
    store = folder / "store"
    sweep.run_sweep(sweep.plan(path), store, workers=1)
    return store


def test_discover_recovers_the_region_of_high_floors(floor_store: Path) -> None:
    runs = sweep.load(floor_store)
    high = runs["median_effective_hourly_pay_usd"] > LEVEL
    # the premise: median pay above the level happens at high floors only
    assert high.any() and not high.all()
    lowest_high_floor = runs.loc[high, "policy.pay_floor.usd_per_hour"].min()
    found = discover(floor_store, "median_effective_hourly_pay_usd", above=LEVEL)
    box = found.boxes[found.boxes.box == 1].iloc[0]
    assert box.parameter == "policy.pay_floor.usd_per_hour"
    assert box.density >= 0.8 and box.coverage >= 0.8
    # the box starts at a high floor and includes the highest ones
    assert lowest_high_floor - 1.0 <= box.low <= lowest_high_floor
    assert box.high == max(FLOORS)
    assert found.cases == len(FLOORS) * 2 and found.cases_of_interest == int(high.sum())


def test_discover_below_finds_the_low_floors(floor_store: Path) -> None:
    found = discover(floor_store, "median_effective_hourly_pay_usd", below=LEVEL)
    box = found.boxes[found.boxes.box == 1].iloc[0]
    assert box.parameter == "policy.pay_floor.usd_per_hour"
    assert box.low == min(FLOORS) and box.high < max(FLOORS)


def test_discover_cli_writes_boxes_and_chart(floor_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "disc"
    res = CliRunner().invoke(app, ["discover", str(floor_store), "--outcome",
                                   "median_effective_hourly_pay_usd", "--above", str(LEVEL),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "box 1" in res.output
    header = (out / "boxes.csv").read_text().splitlines()[0].split(",")
    assert {"box", "parameter", "low", "high", "coverage", "density"} <= set(header)
    assert "plotly" in (out / "tradeoff.html").read_text()[:200_000].lower()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--outcome", "median_effective_hourly_pay_usd"], "one of --above"),
        (["--outcome", "nope", "--above", "1"], "'nope' is not allowed"),
        (["--outcome", "labels_human", "--above", "1", "--min-density", "2"], "--min-density"),
        (["--outcome", "labels_human", "--above", "inf"], "--above: inf is not allowed"),
        (["--outcome", "labels_human", "--below", "nan"], "--below: nan is not allowed"),
        (["--outcome", "labels_human", "--above", "1", "--min-density", "nan"], "--min-density"),
    ],
)
def test_discover_refuses_bad_requests_in_one_line(floor_store, args, message) -> None:
    res = CliRunner().invoke(app, ["discover", str(floor_store), *args])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_discover_without_cases_of_interest_finds_no_box(floor_store: Path) -> None:
    found = discover(floor_store, "median_effective_hourly_pay_usd", above=1e6)
    assert found.cases_of_interest == 0 and found.boxes.empty
    with pytest.raises(ScenarioError):
        discover(floor_store / "missing", "labels_human", above=1)


def test_discover_out_is_checked_first_and_written_whole(floor_store: Path, tmp_path: Path):
    args = ["discover", str(floor_store), "--outcome", "median_effective_hourly_pay_usd",
            "--above", str(LEVEL), "--out", str(tmp_path / "d")]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (tmp_path / "d" / "manifest.json").exists()
    again = CliRunner().invoke(app, args)  # an older result is kept unless --overwrite
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert CliRunner().invoke(app, [*args, "--overwrite"]).exit_code == 0
    (tmp_path / "file").write_text("x")
    res = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "file")])
    assert res.exit_code == 2 and "Traceback" not in res.output
