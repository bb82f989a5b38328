"""What world to build: the scenario model, its overrides and durations, a run's
scenario, overrides and seed as one value (``RunSpec``), the workload (generated, or real
baskets from a dataset), and the package's error."""
