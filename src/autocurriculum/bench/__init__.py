"""The benchmark: learners, scenarios, a parallel runner, metrics and reports.

- :mod:`~autocurriculum.bench.learner`: the learner protocol, what a benchmark trains;
- :mod:`~autocurriculum.bench.students`: synthetic students that implement it;
- :mod:`~autocurriculum.bench.scenarios`: named student configurations, with expert knowledge;
- :mod:`~autocurriculum.bench.suites`: which teachers run on which scenarios (from the teachers'
  registry specs), and how a teacher is built for a learner;
- :mod:`~autocurriculum.bench.protocols`: the training-step protocols (plain, grpo);
- :mod:`~autocurriculum.bench.loop`: the one training loop, with callbacks;
- :mod:`~autocurriculum.bench.jobs`: one (teacher, scenario, seed) job and what it records;
- :mod:`~autocurriculum.bench.pool`: jobs in worker processes;
- :mod:`~autocurriculum.bench.rundir`: the run directory's files;
- :mod:`~autocurriculum.bench.summary`: the summary table;
- :mod:`~autocurriculum.bench.runner`: :func:`~autocurriculum.bench.runner.run_benchmark`,
  which ties them together;
- :mod:`~autocurriculum.bench.metrics` and :mod:`~autocurriculum.bench.report`: the figures.
"""
