"""The benchmark: synthetic students, scenarios, a parallel runner, metrics and reports."""
