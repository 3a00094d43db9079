"""relance_dev: the development package of relance. Never shipped in the Lambda layer.

- :mod:`relance_dev.embedded`: the embedded AWS, ``template.yaml`` deployed into moto with the real
  handlers run in-process (tests, ``relance simulate``, the benchmarks);
- :mod:`relance_dev.simulate`: the season simulator behind ``relance simulate`` (scenario, driver, log,
  season report), registered as a sub-command by :mod:`relance.cli` when this package is importable;
- :mod:`relance_dev.faults`: fault injection for the simulator and the fault tests.

``make venv`` installs it (``pip install -e '.[dev]'``, see pyproject.toml); the layer's build copies
``layers/relance/relance`` only, so nothing here can reach a deployed function.
"""
