"""datalabour in Mesa's SolaraViz: the weekly series, with two policy sliders.

    pip install "mesa[viz]"
    solara run docs/solara_example.py

Moving a slider and pressing Reset rebuilds the model through its keyword constructor,
``LabourMarketModel(policy__pay_floor__usd_per_hour=4.0, ...)``; each step is one week and
the plots read Mesa's DataCollector. The population is small so that weeks step quickly.
"""

from mesa.visualization import Slider, SolaraViz, make_plot_component

from sim.model import LabourMarketModel

model_params = {
    "scenario": "baseline",
    "population__taskers": 3000,
    "policy__pay_floor__kind": "absolute",
    "policy__pay_floor__usd_per_hour": Slider("pay floor (USD per hour)", 0.0, 0.0, 10.0, 0.5),
    "policy__max_monitoring": Slider("cap on monitoring intensity", 1.0, 0.0, 1.0, 0.1),
}
components = [
    make_plot_component(["median_effective_hourly_pay_usd", "mean_effective_hourly_pay_usd"]),
    make_plot_component("unpaid_share"),
    make_plot_component(["active_taskers", "taskers_with_paid_work"]),
]
model = LabourMarketModel(
    **{k: v.value if isinstance(v, Slider) else v for k, v in model_params.items()}
)
page = SolaraViz(
    model, components=components, model_params=model_params, name="datalabour: pay floor"
)
