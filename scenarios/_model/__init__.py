"""What world to build: the scenario model, its overrides and durations, the workload
(generated, or real baskets from a dataset), and the package's error."""
