"""The outcome registry: every outcome of the model, declared once.

For each outcome: its name (the key in summary.json and the column in the Parquet files), a
short label, its unit, which direction is better, a one-sentence description, the scopes where
it exists and how it is aggregated over weeks. `sim.metrics` computes what is declared here
(a test holds the two together); the CLI, the policy report, compare, sweeps, the dashboard and
docs/outcomes.md read it. To add an outcome: declare it here, compute it in `sim.metrics`, and
regenerate docs/outcomes.md (`datalabour outcomes --markdown > docs/outcomes.md`).

Scopes: `overall` (summary.json "overall"), `country` and `platform` (summary.json
"by_country" / "by_platform"; those aggregated as `mean` are also columns of
by_country.parquet / by_platform.parquet, week by week), `weekly` (a column of weekly.parquet).

Aggregation, how a summary value comes from the weeks after burn-in:
`mean` the mean of the weekly values; `window` per tasker over the whole window (each tasker's
pay and hours summed over the window, then the distribution over taskers who did paid work);
`derived` computed from other summary values; `input` a fixed value of the scenario's data.
"""

from __future__ import annotations

from dataclasses import dataclass

HIGHER = "higher_is_better"
LOWER = "lower_is_better"
NEUTRAL = "neutral"
DIRECTIONS = (HIGHER, LOWER, NEUTRAL)
SCOPES = ("overall", "country", "platform", "weekly")
AGGREGATIONS = {
    "mean": "mean of the weekly values after burn-in",
    "window": "per tasker over the weeks after burn-in (pay and hours summed), then over taskers "
    "who did paid work",
    "derived": "computed from other summary values",
    "input": "a fixed value of the scenario's data",
}
ALL = ("overall", "country", "platform", "weekly")  # a flow summed over taskers
MARKET = ("overall", "weekly")  # exists for the whole market only
DISTRIBUTION = ALL  # a pay distribution: weekly overall, over the window per group
GROUP_ONLY = ("country",)


@dataclass(frozen=True)
class Outcome:
    """One outcome: what it is, in which unit, which way is better, where it exists."""

    name: str
    label: str
    unit: str
    direction: str
    description: str
    scopes: tuple[str, ...]
    aggregation: str = "mean"
    short: str = ""  # a card's or a table column's title (default: the label)
    module: str = "metrics"  # which module computes it: sim.metrics or sim.netpay
    group_aggregation: str = ""  # per country / platform when not `aggregation`

    def aggregated(self, scope: str) -> str:
        """How the summary value of `scope` comes from the weeks."""
        grouped = scope in ("country", "platform") and self.group_aggregation
        return self.group_aggregation if grouped else self.aggregation

    def __post_init__(self) -> None:
        assert self.direction in DIRECTIONS, self.name
        assert set(self.scopes) <= set(SCOPES), self.name
        assert self.aggregation in AGGREGATIONS, self.name
        assert self.group_aggregation in ("", *AGGREGATIONS), self.name

    @property
    def title(self) -> str:
        return self.short or self.label

    @property
    def kind(self) -> str:
        """How a value is shown: `pct` (a share), `usd`, `usd4` (fractions of a cent
        matter) or `count`."""
        if self.unit == "share":
            return "pct"
        if self.unit == "USD/label":
            return "usd4"
        if self.unit.startswith(("USD", "int$")):
            return "usd"
        return "count"

    @property
    def relative(self) -> bool:
        """Changes are best read relative to the baseline (volumes, counts, costs), not in
        absolute points (shares, hourly pay)."""
        return self.kind != "pct" and not self.unit.endswith("/h")

    def format(self, value: float) -> str:
        """A plain-text value (the CLI's summary)."""
        if self.kind == "pct":
            return f"{value:.1%}"
        if self.kind == "usd4":
            return f"{value:.4f}"
        if self.unit.endswith("/h"):
            return f"{value:.2f}"
        return f"{value:,.0f}"

    def to_dict(self) -> dict:
        return {
            "name": self.name, "label": self.label, "unit": self.unit,
            "direction": self.direction, "description": self.description,
            "scopes": list(self.scopes), "aggregation": self.aggregation,
            **({"group_aggregation": self.group_aggregation} if self.group_aggregation else {}),
        }


_O = Outcome
REGISTRY: tuple[Outcome, ...] = (
    _O("active_taskers", "Active taskers", "taskers", NEUTRAL,
      "Taskers on a platform this week (members, whether or not they got work).", ALL),
    _O("taskers_with_paid_work", "Taskers with paid work", "taskers", HIGHER,
      "Active taskers who did at least some paid work this week.", ALL),
    _O("paid_hours", "Paid hours", "hours/week", NEUTRAL,
      "Hours of task work that were paid (after rejections and idle-time deductions).", ALL),
    _O("unpaid_hours", "Unpaid hours", "hours/week", LOWER,
      "Unpaid working time: qualification, search, vain search and unpaid task time.", ALL),
    _O("unpaid_share", "Unpaid share of working time", "share", LOWER,
      "Unpaid hours as a share of all working hours (paid plus unpaid).", ALL,
      short="Unpaid time"),
    _O("tasker_pay_usd", "Pay to taskers", "USD/week", HIGHER,
      "Pay to taskers including pay-floor top-ups, as billed to labs.", ALL,
      short="Pay to taskers/wk"),
    _O("tasker_pay_ppp_usd", "Pay to taskers (PPP)", "int$/week", HIGHER,
      "Pay to taskers in purchasing-power dollars (each country's pay over its price level).",
      ALL),
    _O("median_effective_hourly_pay_usd", "Median effective hourly pay", "USD/h", HIGHER,
      "Median over taskers with paid work of pay per working hour, unpaid time counted.",
      DISTRIBUTION, "window", short="Median pay/hour"),
    _O("mean_effective_hourly_pay_usd", "Mean effective hourly pay", "USD/h", HIGHER,
      "Mean over taskers with paid work of pay per working hour, unpaid time counted.",
      DISTRIBUTION, "window"),
    _O("p10_effective_hourly_pay_usd", "10th percentile of effective hourly pay", "USD/h", HIGHER,
      "10th percentile over taskers with paid work of pay per working hour, unpaid time counted.",
      DISTRIBUTION, "window"),
    _O("p90_effective_hourly_pay_usd", "90th percentile of effective hourly pay", "USD/h", NEUTRAL,
      "90th percentile over taskers with paid work of pay per working hour, unpaid time counted.",
      DISTRIBUTION, "window"),
    _O("mean_paid_hourly_pay_usd", "Mean hourly pay, paid time", "USD/h", HIGHER,
      "Mean over taskers with paid work of pay per paid hour (unpaid time not counted): task "
      "pay and the pay-floor top-up that lifts paid hours to the floor; an all-time floor's "
      "top-up for unpaid hours is left out.", DISTRIBUTION, "window"),
    _O("share_over_7_25_usd_per_hour", "Share earning over 7.25 USD/h", "share", HIGHER,
      "Share of taskers with paid work whose effective hourly pay exceeds the US federal "
      "minimum wage of 7.25 USD.", DISTRIBUTION, "window"),
    _O("share_under_local_minimum_wage", "Taskers under local minimum wage", "share", LOWER,
      "Share of taskers with paid work whose effective hourly pay is under their country's "
      "minimum wage.", DISTRIBUTION, "window", short="Under minimum wage"),
    _O("share_wanting_more_work", "Taskers wanting more work", "share", LOWER,
      "Share of taskers offering hours who worked less than the want-more-work threshold of "
      "the hours they offered.", ALL),
    _O("gini_weekly_pay", "Gini of weekly pay", "index 0-1", LOWER,
      "Gini coefficient of this week's pay over active taskers.", MARKET),
    _O("median_tenure_weeks", "Median tenure", "weeks", NEUTRAL,
      "Median weeks on a platform of active taskers.", MARKET),
    _O("mean_skill_of_working_taskers", "Mean skill of working taskers", "speed multiple",
      NEUTRAL, "Mean skill (speed multiple, median 1) of taskers, weighted by paid hours.", ALL),
    _O("labels_human", "Human labels", "labels/week", NEUTRAL,
      "Accepted human labels (including undetected LLM-made ones).", ALL,
      short="Human labels/wk"),
    _O("labels_ai", "AI labels", "labels/week", NEUTRAL,
      "Labels made by AI in place of human work (the automated part of demand).", MARKET),
    _O("labels_total", "All labels", "labels/week", NEUTRAL,
      "Accepted human labels plus AI labels.", MARKET),
    _O("fake_human_labels", "Fake-human labels", "labels/week", LOWER,
      "Accepted labels that a tasker made with an LLM and that went undetected.", ALL),
    _O("llm_detected_labels", "Detected LLM labels", "labels/week", NEUTRAL,
      "LLM-made labels that the platform detected and rejected.", MARKET),
    _O("quality_adjusted_labels", "Quality-adjusted labels", "labels/week", HIGHER,
      "Labels weighted by their quality: genuine human, fake-human and AI labels.", MARKET,
      short="Quality labels/wk"),
    _O("demand_tasks", "Labelling demand", "tasks/week", NEUTRAL,
      "Tasks the labs want labelled this week, by humans or AI.", MARKET),
    _O("human_tasks_posted", "Human tasks posted", "tasks/week", NEUTRAL,
      "Tasks the labs posted to platforms for human work, after budget cuts.", MARKET),
    _O("fill_rate", "Fill rate", "share", HIGHER,
      "Share of the posted human tasks that were done (capped at 1).", MARKET),
    _O("automation_share", "Automation share", "share", NEUTRAL,
      "Share of the labs' labelling demand done by AI.", MARKET),
    _O("mean_minutes_per_human_task", "Minutes per human task", "minutes", NEUTRAL,
      "Median-speed minutes per posted human task, after hardening, weighted by volume.",
      MARKET),
    _O("pay_per_human_label_usd", "Pay per human label", "USD/label", NEUTRAL,
      "Pay to taskers per accepted human label.", MARKET),
    _O("lab_spend_usd", "Lab spend", "USD/week", NEUTRAL,
      "What labs spend: pay to taskers, platform fees and, overall, AI labels.", ALL,
      short="Lab spend/wk"),
    _O("platform_revenue_usd", "Platform fees", "USD/week", NEUTRAL,
      "Platform fees (commission on the pay labs send through a platform).", ALL),
    _O("ai_spend_usd", "AI spend", "USD/week", NEUTRAL,
      "What labs spend on AI labels.", MARKET),
    _O("pay_floor_topup_usd", "Pay-floor top-ups", "USD/week", NEUTRAL,
      "Pay that platforms add to bring taskers up to the pay floor (billed to labs).", ALL),
    _O("cost_per_quality_adjusted_label_usd", "Lab cost per quality-adjusted label", "USD/label",
      LOWER, "Lab spend over quality-adjusted labels.", MARKET, short="Lab cost/label"),
    _O("tasker_share_of_lab_price", "Taskers' share of the lab price", "share", HIGHER,
      "Pay to taskers as a share of what labs pay for human work (pay plus platform fees).", ALL),
    _O("exits", "Exits", "taskers/week", LOWER,
      "Taskers who left their platform this week.", ALL),
    _O("entries", "Entries", "taskers/week", NEUTRAL,
      "Taskers who joined a platform this week (newcomers and switchers).", MARKET),
    _O("exit_hazard_per_week", "Exit hazard", "share/week", LOWER,
      "Share of active taskers who left their platform this week.", MARKET),
    _O("tasks_per_task_hour", "Tasks per task hour", "tasks/hour", HIGHER,
      "Tasks done per hour of task work (productivity).", MARKET),
    _O("llm_detection_rate", "LLM detection rate", "share", HIGHER,
      "Share of LLM-made labels that the platforms detected.", MARKET),
    _O("human_cost_per_quality_adjusted_label_usd", "Lab cost per quality-adjusted human label",
      "USD/label", LOWER, "Lab spend on human work (pay, fees, floor top-ups with their fee, "
      "paid rejections) over quality-adjusted human labels.", MARKET, short="Human cost/label"),
    _O("llm_label_share", "LLM-made share of submissions", "share", LOWER,
      "LLM-made labels, detected or not, over tasks done on task types where an LLM can be "
      "used: the per-submission prevalence.", MARKET),
    _O("half_life_weeks", "Tasker half-life", "weeks", HIGHER,
      "Weeks until half of a cohort has left at the mean exit hazard (100 x the horizon "
      "when nobody leaves).", ("overall",), "derived"),
    _O("pay_floor_usd_per_hour", "Pay floor", "USD/h", NEUTRAL,
      "The pay floor in force at the end of the run (0 where none).", GROUP_ONLY, "input"),
    _O("min_wage_usd_per_hour", "Minimum wage", "USD/h", NEUTRAL,
      "The country's minimum wage in US dollars.", GROUP_ONLY, "input"),
    _O("price_level_ratio", "Price level ratio", "ratio", NEUTRAL,
      "The country's PPP conversion factor over its exchange rate (int$ = USD / ratio).",
      GROUP_ONLY, "input"),
    _O("median_effective_hourly_pay_ppp_usd", "Median effective hourly pay (PPP)", "int$/h",
      HIGHER, "Median effective hourly pay in purchasing-power dollars.", GROUP_ONLY,
      "derived"),
    _O("mean_effective_hourly_pay_ppp_usd", "Mean effective hourly pay (PPP)", "int$/h", HIGHER,
      "Mean effective hourly pay in purchasing-power dollars.", GROUP_ONLY, "derived"),
    _O("income_per_active_tasker_usd", "Income per active tasker", "USD/week", HIGHER,
      "Weekly pay to taskers over active taskers.", GROUP_ONLY, "derived"),
    # net pay (sim.netpay): what taskers keep after contributions and taxes
    _O("tasker_net_pay_usd", "Net pay to taskers", "USD/week", HIGHER,
       "Pay to taskers after the contributions, income tax and withholding they owe.",
       ("overall", "country", "weekly"), module="netpay", short="Net pay/wk"),
    _O("tasker_net_pay_ppp_usd", "Net pay to taskers (PPP)", "int$/week", HIGHER,
       "Net pay to taskers in purchasing-power dollars.", ("overall", "country", "weekly"),
       module="netpay", group_aggregation="derived"),
    _O("contributions_and_taxes_usd", "Contributions and taxes", "USD/week", NEUTRAL,
       "Social contributions and income tax due on platform pay (taskers' and platforms' "
       "parts) plus tax withheld at source.", ("overall", "country", "weekly"),
       module="netpay"),
    _O("platform_paid_contributions_usd", "Contributions paid by platforms", "USD/week",
       NEUTRAL, "The part of declared taskers' contributions that platforms pay under policy.",
       ("overall", "country", "weekly"), module="netpay"),
    _O("net_income_per_active_tasker_usd", "Net income per active tasker", "USD/week", HIGHER,
       "Net pay to taskers over active taskers (per country: from the country's means).",
       ("overall", "country", "weekly"), module="netpay", group_aggregation="derived"),
    _O("declared_share", "Declared share", "share", NEUTRAL,
       "Share of active taskers who declare their platform income.", MARKET, module="netpay"),
    _O("median_net_effective_hourly_pay_usd", "Median net effective hourly pay", "USD/h",
       HIGHER, "Median over taskers with paid work of net pay per working hour, unpaid time "
       "counted.", ("overall", "country", "weekly"), "window", module="netpay"),
    _O("mean_net_effective_hourly_pay_usd", "Mean net effective hourly pay", "USD/h", HIGHER,
       "Mean over taskers with paid work of net pay per working hour, unpaid time counted.",
       ("overall", "country"), "window", module="netpay"),
    _O("p10_net_effective_hourly_pay_usd", "10th percentile of net effective hourly pay",
       "USD/h", HIGHER, "10th percentile over taskers with paid work of net pay per working "
       "hour.", ("overall", "country"), "window", module="netpay"),
    _O("p90_net_effective_hourly_pay_usd", "90th percentile of net effective hourly pay",
       "USD/h", NEUTRAL, "90th percentile over taskers with paid work of net pay per working "
       "hour.", ("overall", "country"), "window", module="netpay"),
    _O("share_under_local_minimum_wage_on_net_pay", "Under local minimum wage, net pay",
       "share", LOWER, "Share of taskers with paid work whose net effective hourly pay is under "
       "their country's minimum wage.", ("overall", "country", "weekly"), "window",
       module="netpay"),
    _O("share_keeping_less_than_nothing", "Keeping less than nothing", "share", LOWER,
       "Share of taskers with paid work whose dues exceed their pay (net pay below zero).",
       ("overall", "country", "weekly"), "window", module="netpay"),
    _O("median_net_effective_hourly_pay_ppp_usd", "Median net effective hourly pay (PPP)",
       "int$/h", HIGHER, "Median net effective hourly pay in purchasing-power dollars, each "
       "tasker's at their country's price level.", ("overall", "country"), "window",
       module="netpay"),
    _O("mean_net_effective_hourly_pay_ppp_usd", "Mean net effective hourly pay (PPP)", "int$/h",
       HIGHER, "Mean net effective hourly pay in purchasing-power dollars.", GROUP_ONLY,
       "derived", module="netpay"),
)
del _O

BY_NAME: dict[str, Outcome] = {o.name: o for o in REGISTRY}
assert len(BY_NAME) == len(REGISTRY), "an outcome is declared twice"


def get(name: str) -> Outcome:
    """The outcome `name`; unknown names (e.g. a sweep's flattened key) get a plain entry."""
    return BY_NAME.get(name) or Outcome(name, name.replace("_", " "), "", NEUTRAL, "", ())


def names(scope: str, aggregation: str | None = None, module: str | None = None) -> list[str]:
    """The outcomes of one scope (optionally of one aggregation, or computed by one module),
    in registry order."""
    return [
        o.name for o in REGISTRY
        if scope in o.scopes and (aggregation is None or o.aggregated(scope) == aggregation)
        and (module is None or o.module == module)
    ]


def _selection(*keys: str) -> tuple[str, ...]:
    unknown = [k for k in keys if k not in BY_NAME]
    assert not unknown, f"not in the outcome registry: {unknown}"
    return keys


# The outcomes each view shows, in its order (labels, units and formats come from the registry)
SUMMARY_TABLE = _selection(  # `datalabour run` prints these
    "median_effective_hourly_pay_usd", "median_net_effective_hourly_pay_usd",
    "mean_effective_hourly_pay_usd", "mean_paid_hourly_pay_usd", "unpaid_share",
    "share_under_local_minimum_wage", "share_under_local_minimum_wage_on_net_pay",
    "share_keeping_less_than_nothing",
    "share_wanting_more_work", "active_taskers", "labels_human", "labels_ai",
    "automation_share", "lab_spend_usd", "cost_per_quality_adjusted_label_usd",
    "tasker_share_of_lab_price",
)
HEADLINE = _selection(  # compare's headline
    "median_effective_hourly_pay_usd", "median_net_effective_hourly_pay_usd",
    "mean_effective_hourly_pay_usd", "tasker_pay_usd", "tasker_net_pay_usd",
    "share_under_local_minimum_wage", "share_under_local_minimum_wage_on_net_pay",
    "unpaid_share", "labels_human", "quality_adjusted_labels",
    "cost_per_quality_adjusted_label_usd", "automation_share", "active_taskers",
)
CARDS = _selection(  # the dashboard's headline cards
    "median_effective_hourly_pay_usd", "share_under_local_minimum_wage", "unpaid_share",
    "tasker_pay_usd", "active_taskers", "labels_human", "quality_adjusted_labels",
    "cost_per_quality_adjusted_label_usd", "automation_share", "lab_spend_usd",
)
SIDE_BY_SIDE = _selection(  # the dashboard's reforms side by side
    "median_effective_hourly_pay_usd", "share_under_local_minimum_wage", "unpaid_share",
    "tasker_pay_usd", "labels_human", "cost_per_quality_adjusted_label_usd",
)
POLICY_REPORT = _selection(  # docs/policies.md's columns
    "median_effective_hourly_pay_usd", "median_net_effective_hourly_pay_usd",
    "share_under_local_minimum_wage", "unpaid_share",
    "active_taskers", "paid_hours", "labels_human", "quality_adjusted_labels",
    "cost_per_quality_adjusted_label_usd", "automation_share",
)
REFERENCE_CHECK = _selection(  # the vectorised and per-agent models must agree on these
    "median_effective_hourly_pay_usd", "mean_effective_hourly_pay_usd",
    "mean_paid_hourly_pay_usd", "unpaid_share", "share_under_local_minimum_wage",
    "share_wanting_more_work", "active_taskers", "labels_human", "fake_human_labels",
    "quality_adjusted_labels", "fill_rate", "automation_share", "tasker_pay_usd",
    "platform_revenue_usd", "pay_floor_topup_usd", "gini_weekly_pay", "exit_hazard_per_week",
)


def field_metadata(key: str) -> dict[str, str] | None:
    """Label, unit and description of an outcome column: an outcome's name, or a flattened
    key such as by_country.KEN.NAME, weekly.NAME or delta.NAME (a reform's change)."""
    o = BY_NAME.get(key.rsplit(".", 1)[-1])
    if o is None:
        return None
    description = o.description
    if key.startswith("delta."):
        description = f"Change, reform minus baseline with the same seed: {description}"
    return {"label": o.label, "unit": o.unit, "description": description}


def to_parquet(frame, path) -> None:
    """Write a results frame to Parquet (pandas, pyarrow); each outcome column's field
    metadata carries its label, unit and description."""
    import pyarrow as pa

    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    fields = []
    for f in schema:
        meta = field_metadata(f.name) if f.name in BY_NAME else None
        fields.append(f if meta is None else f.with_metadata(meta))
    frame.to_parquet(path, index=False, schema=pa.schema(fields, metadata=schema.metadata))


def markdown() -> str:
    """docs/outcomes.md: the data dictionary, generated from the registry."""
    lines = [
        "# Outcomes",
        "",
        "<!-- generated by `datalabour outcomes --markdown > docs/outcomes.md`; do not edit -->",
        "",
        "Every outcome the model reports: its key in `summary.json` and column in the Parquet "
        "files, unit, which direction is better, where it exists and how it is aggregated over "
        "the weeks after burn-in.",
        "",
        "Scopes: **overall** (summary.json `overall`), **country** / **platform** (summary.json "
        "`by_country` / `by_platform`; those aggregated as `mean` are also columns of "
        "`by_country.parquet` / `by_platform.parquet`, week by week), **weekly** (a column of "
        "`weekly.parquet`).",
        "",
        "Aggregation: " + "; ".join(f"**{k}**: {v}" for k, v in AGGREGATIONS.items()) + ".",
        "",
        "| name | label | unit | direction | scopes | aggregation | description |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in REGISTRY:
        aggregation = o.aggregation
        if o.group_aggregation:
            aggregation += f" (by group: {o.group_aggregation})"
        lines.append(
            f"| `{o.name}` | {o.label} | {o.unit} | {o.direction.replace('_', ' ')} | "
            f"{', '.join(o.scopes)} | {aggregation} | {o.description} |"
        )
    return "\n".join(lines) + "\n"
