"""Run a world in virtual time and report: the runner, the report and the promise ledger
it shares with the checker, cloud factories, progress lines."""
