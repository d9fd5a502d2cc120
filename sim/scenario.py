"""Scenario: every parameter of the model, in one validated schema.

A scenario is a YAML file. It may `extends:` another file (deep merge: mappings merge,
lists are replaced whole), list dotted-path changes under `set:`, and take overrides such as
``policy.pay_floor.kind=ppp_indexed`` or ``platforms.open_marketplace.fee_share=0.3``
(list items may be addressed by index or by their ``name``); sim/scenario_files.py reads
files and applies overrides. Every number is finite. Every user error becomes one
`ScenarioError` naming the field, the bad value and what is allowed (`format_validation`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SCHEMA_VERSION = 1

Share = Annotated[float, Field(ge=0.0, le=1.0)]


class ScenarioError(ValueError):
    """A user error in a scenario, an override or a sweep file: one readable line."""


class _Base(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )


def _f(default: Any, description: str, **bounds: Any) -> Any:
    return Field(default, description=description, **bounds)


class Population(_Base):
    taskers: int = _f(20_000, "potential taskers in the population", ge=10, le=100_000_000)
    reference_taskers: int = _f(
        20_000, "population size at which lab demand and budgets are stated", ge=1
    )
    initial_tenure_mean_weeks: float = _f(
        40, "mean tenure of taskers already on a platform in week 0", ge=0, le=1000
    )
    initial_tasks_per_week: float = _f(
        40, "approved tasks a week credited to week-0 incumbents' tenure", ge=0, le=1e5
    )
    initial_approval: Share = _f(0.95, "approval rate of a newcomer")
    skill_sigma: float = _f(0.35, "lognormal sigma of skill theta (speed)", ge=0, le=3)
    hours_available_median: float = _f(15, "median hours available per week", gt=0, le=80)
    hours_available_sigma: float = _f(0.6, "lognormal sigma of hours available", ge=0, le=3)
    hours_available_max: float = _f(70, "cap on hours available per week", gt=0, le=112)
    reservation_wage_sigma: float = _f(
        1.85,
        "lognormal sigma of reservation wages (0.798/sigma = extensive elasticity)",
        gt=0,
        le=5,
    )
    reservation_wage_share_of_minimum_wage: float = _f(
        0.2, "country median reservation wage as a multiple of the minimum wage", gt=0, le=5
    )
    reservation_wage_floor_usd_per_hour: float = _f(
        0.15, "lowest country median reservation wage", ge=0, le=50
    )
    accuracy_mean: Share = _f(0.85, "mean base accuracy of a human label")
    accuracy_sd: float = _f(0.07, "standard deviation of base accuracy", ge=0, le=0.5)
    llm_propensity_mean: Share = _f(0.4, "mean weekly probability of using an LLM when allowed")


class TaskType(_Base):
    name: str = Field(min_length=1, description="task type name")
    minutes_per_task: float = _f(..., "minutes per task for a median tasker", gt=0, le=600)
    skill_threshold: float = _f(0.0, "lowest skill theta admitted", ge=0, le=10)
    qualification_approved_tasks: float = _f(
        0, "approved tasks needed before this work is offered", ge=0, le=1e6
    )
    ai_feasibility_cap: Share = _f(..., "highest share of this work AI can do")
    ai_cost_usd_per_label: float = _f(..., "AI cost per label in week 0", ge=0, le=1000)
    ai_quality_relative: float = _f(
        ..., "AI label quality relative to a human label in week 0", gt=0, le=2
    )
    ai_quality_max_relative: float = _f(
        1.2, "highest AI quality this task type can reach, relative to human", gt=0, le=2
    )
    llm_usable: bool = _f(False, "whether a tasker can have an LLM do this task")
    demand_elasticity: float = _f(
        0.5,
        "own-price elasticity (absolute) of labs' demand for human labels of this type above "
        "their human-anchor need, at full cost per quality-adjusted label (prior 0.3-0.7)",
        ge=0,
        le=5,
    )


class Technology(_Base):
    ai_cost_decline_per_year: float = _f(
        0.5, "share by which AI label cost falls a year", ge=0, lt=1
    )
    ai_quality_ceiling: float = _f(
        1.1, "AI quality (relative to human) all task types approach", gt=0, le=2
    )
    ai_quality_gain_per_year: Share = _f(
        0.3, "share of the gap to the quality ceiling closed each year"
    )


class Automation(_Base):
    mode: Literal["endogenous", "scheduled"] = _f("endogenous", "how automation shares move")
    schedule: dict[str, list[tuple[int, Share]]] = _f(
        {}, "scheduled mode: per task type, [week, share] points, linear in between"
    )
    logit_slope: float = _f(1.5, "beta: steepness of the target share in ln(Ch/Cai)", gt=0, le=50)
    switching_premium: float = _f(
        1.0, "AI must be this much cheaper (share) before half the cap is automated", ge=0, le=100
    )
    adoption_speed_per_week: Share = _f(0.02, "share of the gap to the target closed weekly")
    hardening: float = _f(
        1.0, "remaining human tasks take (1 + hardening x automation share) longer", ge=0, le=10
    )


class Platform(_Base):
    name: str = Field(min_length=1, description="platform name")
    pay_mode: Literal["piece", "hourly"] = _f("piece", "piece rate or hourly pay")
    fee_share: float = _f(
        0.2, "commission charged to the lab, as a share of tasker pay", ge=0, le=20
    )
    pay_localisation: Share = _f(0.0, "1 = pay scaled by the country price level")
    monitoring: Share = _f(0.0, "monitoring intensity: 0 none, 0.5 time tracker, 1 keylogging")
    rejection_strictness: Share = _f(
        0.3, "rejection probability per unit of label error (1 - accuracy)"
    )
    gold_share: Share = _f(0.05, "share of tasks that are gold checks (quality control)")
    paid_rejections: bool = _f(False, "whether rejected work is paid")
    countries_served: list[str] | Literal["all"] = _f("all", "ISO3 codes served, or 'all'")
    skill_threshold: float = _f(0.0, "lowest skill theta the platform admits", ge=0, le=10)


class Stream(_Base):
    """One lab's weekly demand for one task type."""

    task_type: str = Field(min_length=1, description="task type name")
    demand_task_hours_per_tasker: float = _f(
        ..., "weekly demand in median-speed task-hours per potential tasker", ge=0, le=100
    )
    pay_norm_usd_per_hour: float = _f(
        ..., "lab's pay norm per median-speed hour (sets the piece rate)", gt=0, le=1000
    )
    eligible_countries: list[str] | Literal["all"] = _f("all", "countries allowed, or 'all'")
    automation_share_initial: Share = _f(0.1, "automation share in week 0")


class Lab(_Base):
    name: str = Field(min_length=1, description="lab name")
    weekly_budget_usd: float = _f(
        ..., "weekly budget for feedback at population.reference_taskers", gt=0
    )
    demand_growth_per_year: float = _f(0.0, "yearly growth of demand", ge=-0.9, le=10)
    streams: list[Stream] = Field(min_length=1, description="demand per task type")
    platform_shares: dict[str, Share] = Field(
        min_length=1, description="initial share of human work per platform"
    )
    human_anchor_share: Share = _f(0.2, "share of feedback the lab keeps human (fresh data)")
    fill_rate_target: Share = _f(0.95, "fill rate below which the lab raises pay")
    pay_raise_per_week: Share = _f(0.03, "pay raise when fill rate is under target")
    pay_cut_per_week: Share = _f(0.01, "pay cut while supply is in excess")
    pay_ceiling_multiple_of_norm: float = _f(
        1.5, "highest offer as a multiple of the pay norm (supply is inelastic)", ge=1, le=100
    )
    platform_cost_sensitivity: float = _f(
        1.0, "logit weight on ln cost per quality-adjusted label", ge=0, le=50
    )
    platform_inertia: Share = _f(0.9, "weight on last week's platform split")
    cost_learning_weight: Share = _f(
        0.3, "weight of last week's realised cost in the lab's cost estimates (EWMA)"
    )
    label_value_multiple_of_pay: float = _f(
        1.4,
        "value of the D-th quality-adjusted label as a multiple of the pay norm's piece pay: "
        "at this full cost the lab wants its stated demand (price / pay: 1.2-1.4 open "
        "platforms, about 2 managed vendors)",
        gt=0,
        le=100,
    )


class PayFloor(_Base):
    kind: Literal["none", "absolute", "local_minimum_wage", "ppp_indexed", "ppp_uniform"] = _f(
        "none", "pay floor rule"
    )
    usd_per_hour: float = _f(0.0, "absolute floor, USD per hour", ge=0, le=1000)
    multiple: float = _f(1.0, "multiple of the local minimum wage", ge=0, le=20)
    reference_usd_per_hour: float | None = _f(
        16.5, "PPP rules: reference USD per hour (16.50 = highest US minimum wage)", ge=0, le=1000
    )
    measured_on: Literal["paid_time", "all_time"] = _f(
        "paid_time", "hours over which the floor is checked"
    )
    compliance: Share = _f(1.0, "share of the top-up that platforms actually pay")


class Contributions(_Base):
    """How declared platform income is treated (rules per country: sim/data/contributions.csv)."""

    exempt_below_usd_per_month: float = _f(
        0.0,
        "declared platform income under this many USD a month owes no contributions or "
        "income tax (0: each country's own rules)",
        ge=0,
        le=10_000,
    )
    platform_paid_share: Share = _f(
        0.0, "share of a declared tasker's social contributions that the platform pays"
    )
    declaration_share: float | None = _f(
        None,
        "share of taskers who declare their platform income, in every country (None: the "
        "country table's share)",
        ge=0,
        le=1,
    )


class Policy(_Base):
    start_week: int = _f(0, "week from which every lever takes effect", ge=0)
    pay_floor: PayFloor = PayFloor()
    contributions: Contributions = Contributions()
    pay_mode: Literal["platform_default", "piece", "hourly"] = _f(
        "platform_default", "force every platform's pay mode"
    )
    max_monitoring: Share = _f(1.0, "cap on every platform's monitoring (0 bans monitoring)")
    paid_rejections: bool = _f(False, "force platforms to pay for rejected work")
    max_fee_share: float | None = _f(None, "cap on platform commissions", ge=0, le=20)
    min_human_share: Share = _f(0.0, "share of each lab's feedback that must stay human")


class Behaviour(_Base):
    expected_pay_weight: Share = _f(0.3, "weight of this week's pay in expected pay")
    look_again_probability: Share = _f(0.1, "weekly chance an inactive tasker looks again")
    platform_switch_probability: Share = _f(0.01, "weekly chance an active tasker reconsiders")
    platform_choice_sensitivity: float = _f(
        3.0, "logit weight on ln expected pay when choosing a platform", ge=0, le=100
    )
    monitoring_stress: float = _f(
        0.15, "reservation wage rises by this share at full monitoring", ge=0, le=10
    )
    exit_hazard_base_per_week: Share = _f(0.008, "weekly exit hazard of a tasker paid enough")
    exit_hazard_underpaid_per_week: Share = _f(
        0.3, "extra weekly hazard at zero pay, scaling with the pay shortfall"
    )
    exit_hazard_pay_cut: float = _f(
        1.0, "extra hazard per unit of relative pay cut", ge=0, le=100
    )
    exit_hazard_monitoring_per_week: Share = _f(
        0.004, "extra weekly hazard at full monitoring (stress exits)"
    )
    reputation_power: float = _f(
        2.0,
        "allocation weight (approval x contracted / full lab cost of the tasker's work) ** power",
        ge=0,
        le=20,
    )
    search_hours_per_paid_hour: float = _f(
        0.15, "unpaid search per paid hour when work is plentiful", ge=0, le=10
    )
    search_hours_per_paid_hour_excess: float = _f(
        0.4, "extra search per paid hour x share of offered hours not filled", ge=0, le=10
    )
    vain_search_hours: float = _f(2.0, "unpaid hours of a week searched in vain", ge=0, le=80)
    qualification_hours: float = _f(4.0, "unpaid hours a newcomer spends qualifying", ge=0, le=200)
    hourly_shirking: Share = _f(0.2, "speed lost on hourly pay without monitoring")
    monitoring_output_loss: Share = _f(
        0.0, "output lost under full observability (meta-analyses: about 0; Bernstein: 0.1-0.15)"
    )
    tracker_idle_deduction: Share = _f(
        0.08, "share of worked time a full tracker cuts as idle (unpaid)"
    )
    quality_shirking: Share = _f(0.06, "accuracy lost without monitoring or quality control")
    quality_control_per_gold_share: float = _f(
        10.0, "quality control = min(1, this x gold share): it removes quality shirking",
        ge=0, le=1000,
    )
    approval_learning_rate: Share = _f(
        0.2, "weight of a week's acceptance rate in approval, at full weight"
    )
    approval_full_weight_tasks: float = _f(
        50.0, "tasks in a week from which it counts with full weight in approval", gt=0, le=1e6
    )
    llm_speedup: float = _f(1.0, "extra speed when an LLM does the task", ge=0, le=20)
    llm_deterrence: Share = _f(0.6, "share of LLM use deterred by full monitoring")
    llm_detection_base: Share = _f(0.15, "share of LLM labels detected without monitoring")
    llm_detection_monitoring: Share = _f(0.6, "extra detection share at full monitoring")
    llm_label_quality: Share = _f(0.8, "quality of an undetected LLM label relative to human")
    llm_share_of_labels_when_used: Share = _f(
        0.25, "share of a week's LLM-usable labels an LLM user has the LLM do"
    )
    initial_expected_pay_share: Share = _f(
        0.6, "week-0 expected effective pay as a share of the mean posted hourly offer"
    )
    want_more_work_threshold: Share = _f(
        0.9, "a tasker whose paid hours fall under this share of offered hours wants more"
    )


class Scenario(_Base):
    """The whole parameter set of one run."""

    name: str = _f("unnamed", "scenario name")
    description: str = _f("", "what the scenario represents")
    schema_version: int = _f(SCHEMA_VERSION, "scenario schema version", ge=1, le=SCHEMA_VERSION)
    seed: int = _f(1, "random seed", ge=0, le=2**63 - 1)
    weeks: int = _f(104, "weeks simulated", ge=1, le=5200)
    burn_in_weeks: int = _f(12, "weeks excluded from summary statistics", ge=0)
    population: Population = Population()
    countries: list[str] = Field(min_length=1, description="ISO3 codes of the countries modelled")
    task_types: list[TaskType] = Field(min_length=1, description="task types")
    platforms: list[Platform] = Field(min_length=1, description="platforms")
    labs: list[Lab] = Field(min_length=1, description="labs buying feedback")
    technology: Technology = Technology()
    automation: Automation = Automation()
    policy: Policy = Policy()
    behaviour: Behaviour = Behaviour()

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        from sim.countries import load_countries

        known = set(load_countries().index)
        for i, c in enumerate(self.countries):
            if c not in known:
                allowed = f"an ISO3 code in sim/data/countries.csv: {sorted(known)}"
                raise _err(f"countries.{i}", c, allowed)
        if len(set(self.countries)) != len(self.countries):
            raise _err("countries", self.countries, "each country once")
        if self.burn_in_weeks >= self.weeks:
            raise _err("burn_in_weeks", self.burn_in_weeks, f"fewer than weeks ({self.weeks})")
        tnames = [t.name for t in self.task_types]
        pnames = [p.name for p in self.platforms]
        for what, names in (("task_types", tnames), ("platforms", pnames)):
            if len(set(names)) != len(names):
                raise _err(what, names, "unique names")
        if len({lab.name for lab in self.labs}) != len(self.labs):
            raise _err("labs", [lab.name for lab in self.labs], "unique names")
        for i, p in enumerate(self.platforms):
            _check_countries(f"platforms.{i}.countries_served", p.countries_served, self.countries)
        for i, lab in enumerate(self.labs):
            for j, s in enumerate(lab.streams):
                if s.task_type not in tnames:
                    raise _err(f"labs.{i}.streams.{j}.task_type", s.task_type, f"one of {tnames}")
                _check_countries(
                    f"labs.{i}.streams.{j}.eligible_countries", s.eligible_countries, self.countries
                )
            for p in lab.platform_shares:
                if p not in pnames:
                    raise _err(f"labs.{i}.platform_shares", p, f"one of {pnames}")
            if sum(lab.platform_shares.values()) <= 0:
                raise _err(f"labs.{i}.platform_shares", lab.platform_shares, "a positive total")
        a = self.automation
        if a.mode == "scheduled":
            if not a.schedule:
                raise _err("automation.schedule", {}, "a schedule per task type in scheduled mode")
            for k, pts in a.schedule.items():
                if k not in tnames:
                    raise _err("automation.schedule", k, f"task types among {tnames}")
                if not pts:
                    raise _err(f"automation.schedule.{k}", pts, "at least one [week, share] point")
        floor = self.policy.pay_floor
        if floor.kind in ("ppp_indexed", "ppp_uniform") and not floor.reference_usd_per_hour:
            raise _err(
                "policy.pay_floor.reference_usd_per_hour",
                floor.reference_usd_per_hour,
                f"a positive USD/hour reference for kind {floor.kind}",
            )
        if floor.kind == "absolute" and floor.usd_per_hour < 0:
            raise _err("policy.pay_floor.usd_per_hour", floor.usd_per_hour, "USD/hour >= 0")
        return self

    # ---- convenience -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    def task_index(self, name: str) -> int:
        return [t.name for t in self.task_types].index(name)


def _err(field: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"{field}: {show(value)} is not allowed; expected {allowed}")


def _check_countries(field: str, value: Any, countries: list[str]) -> None:
    if value == "all":
        return
    if not value:
        raise _err(field, value, "'all' or a non-empty list of ISO3 codes")
    for c in value:
        if c not in countries:
            raise _err(field, c, f"a country of the scenario: {countries}")


def show(value: Any) -> str:
    """A value as an error message shows it: its repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def model_of_field(model: Any, key: str) -> Any:
    """The pydantic model class of field `key` of `model` (or of its list items), if any."""
    field = getattr(model, "model_fields", {}).get(key)
    if field is None:
        return None
    ann = field.annotation
    for t in (ann, *getattr(ann, "__args__", ())):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def format_validation(e: ValidationError, root: Any = None, label: str = "scenario") -> str:
    """One line for a pydantic error: the dotted field, the bad value and what is allowed."""
    err = e.errors()[0]
    path = [x for x in err["loc"] if not str(x).startswith("function-")]
    loc = ".".join(str(x) for x in path)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "value_error":
        return f"{loc}: {msg}" if loc and not msg.startswith(loc) else msg
    if err["type"] == "extra_forbidden":
        model: Any = root or Scenario
        for key in path[:-1]:
            model = model if isinstance(key, int) else model_of_field(model, str(key))
        allowed = ", ".join(model.model_fields) if model else "see the schema"
        parent = ".".join(str(x) for x in path[:-1]) or label
        return f"{loc}: unknown field {path[-1]!r} in {parent}; allowed: {allowed}"
    if err["type"] == "missing":
        return f"{loc}: required field is missing"
    extra = f" (and {len(e.errors()) - 1} more errors)" if len(e.errors()) > 1 else ""
    value = show(err.get("input"))
    return f"{loc or label}: {value} is not allowed; {msg[0].lower()}{msg[1:]}{extra}"


def from_dict(data: dict[str, Any]) -> Scenario:
    """Validate a raw mapping into a Scenario, or raise one ScenarioError."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(format_validation(e)) from None
