"""The outcome registry: metrics computes exactly what it declares; its consumers read it."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from sim import outcomes
from sim.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_metrics_compute_exactly_the_declared_outcomes(small_run):
    r = small_run
    assert set(r.summary["overall"]) == set(outcomes.names("overall"))
    assert set(r.weekly.columns) - {"week"} == set(outcomes.names("weekly"))
    for scope in ("country", "platform"):
        groups = r.summary[f"by_{scope}"]
        assert all(set(v) == set(outcomes.names(scope)) for v in groups.values()), scope
        frame = getattr(r, f"by_{scope}")
        assert set(frame.columns) - {"week", "iso3", "platform"} == set(
            outcomes.names(scope, "mean")
        )


def test_every_outcome_describes_itself():
    for o in outcomes.REGISTRY:
        assert o.label and o.unit and o.description.endswith(".") and o.scopes, o.name
        assert o.direction in outcomes.DIRECTIONS
    for view in (outcomes.SUMMARY_TABLE, outcomes.HEADLINE, outcomes.CARDS,
                 outcomes.POLICY_REPORT, outcomes.REFERENCE_CHECK, outcomes.SIDE_BY_SIDE):
        assert all("overall" in outcomes.BY_NAME[k].scopes for k in view)


def test_outcomes_command_covers_every_summary_key(small_run):
    res = CliRunner().invoke(app, ["outcomes", "--json"])
    assert res.exit_code == 0, res.output
    listed = {o["name"]: o for o in json.loads(res.output)}
    for key in small_run.summary["overall"]:
        assert listed[key]["unit"] and listed[key]["description"], key
        assert {"label", "direction", "scopes"} <= set(listed[key])


def test_docs_outcomes_md_is_generated_from_the_registry():
    doc = (ROOT / "docs" / "outcomes.md").read_text()
    assert doc == outcomes.markdown(), (
        "docs/outcomes.md is stale: datalabour outcomes --markdown > docs/outcomes.md"
    )


def test_parquet_columns_carry_unit_and_description(small_run, tmp_path):
    small_run.save(tmp_path)
    schema = pq.read_schema(tmp_path / "weekly.parquet")
    meta = schema.field("unpaid_share").metadata
    assert meta[b"unit"] == b"share" and meta[b"description"]
    assert schema.field("week").metadata is None
    back = pq.read_table(tmp_path / "by_country.parquet").to_pandas()
    assert back[small_run.by_country.columns].equals(small_run.by_country)  # the values as run


def test_flattened_keys_of_sweeps_are_described():
    meta = outcomes.field_metadata("by_country.KEN.unpaid_share")
    assert meta["unit"] == "share"
    assert meta["description"] == outcomes.get("unpaid_share").description
    assert outcomes.field_metadata("delta.labels_human")["description"].startswith("Change")
    assert outcomes.field_metadata("point") is None
