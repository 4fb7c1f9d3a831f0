"""The mutation check (``python -m tests.mutation_check``) works: a fast subset here.

The full check (every mutation, about half a minute each) is a script, not part of the suite.
Here: every mutation still applies to today's source, the tests it names exist, the mistakes
the course promises to guard against are all listed, and three of them, run for real, fail a
test while a comment-only change does not and the working tree stays untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

import pytest
from mutation_check import CONTROL, MUTATIONS, ROOT, mutated_text

SUBSET = ("adagrad-accumulator-0.1", "cosine-t-max-ignored", "plateau-threshold-ignored")


def test_every_mutation_changes_todays_source_exactly_once():
    for m in (*MUTATIONS, CONTROL):
        source = (ROOT / m.path).read_text()
        assert mutated_text(source, m) != source, m.name


def test_every_mutation_names_tests_that_exist():
    for m in (*MUTATIONS, CONTROL):
        assert m.tests, m.name
        for node in m.tests:
            path, _, name = node.partition("::")
            assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.MULTILINE), node


def test_the_mistakes_named_in_the_course_brief_are_all_mutations():
    names = {m.name for m in MUTATIONS}
    required = {
        "adagrad-accumulator-0.1", "adagrad-eps-inside-root", "rmsprop-eps-inside-root",
        "rmsprop-decay-0.9", "adamw-weight-decay-1e-4", "adam-no-bias-correction",
        "nesterov-flag-ignored", "cosine-t-max-ignored", "cosine-eta-min-ignored",
        "plateau-threshold-ignored", "plateau-patience-off-by-one",
        "one-cycle-peak-at-pct-times-t", "step-gamma-ignored", "warmup-length-ignored",
    }
    assert required <= names
    # and every schedule parameter has a mutation that ignores it (falls back to the default)
    from lrviz.engine.schedules import SCHEDULES

    params = {(name, p.name) for name, spec in SCHEDULES.items() for p in spec.params}
    assert set(SCHEDULE_PARAM_MUTATIONS) == params
    assert set(SCHEDULE_PARAM_MUTATIONS.values()) <= names


SCHEDULE_PARAM_MUTATIONS = {
    ("step", "step_size"): "step-size-ignored", ("step", "gamma"): "step-gamma-ignored",
    ("exponential", "gamma"): "exponential-gamma-ignored",
    ("inverse_time", "decay"): "inverse-time-decay-ignored",
    ("cosine", "T_max"): "cosine-t-max-ignored", ("cosine", "eta_min"): "cosine-eta-min-ignored",
    ("warmup_cosine", "warmup_steps"): "warmup-length-ignored",
    ("warmup_cosine", "start_factor"): "warmup-start-factor-ignored",
    ("warmup_cosine", "eta_min"): "warmup-eta-min-ignored",
    ("one_cycle", "pct_start"): "one-cycle-pct-start-ignored",
    ("one_cycle", "div_factor"): "one-cycle-div-factor-ignored",
    ("one_cycle", "final_div_factor"): "one-cycle-final-div-factor-ignored",
    ("cyclic", "step_size_up"): "cyclic-step-size-up-ignored",
    ("cyclic", "base_factor"): "cyclic-base-factor-ignored",
    ("cosine_restarts", "T_0"): "restarts-t0-ignored",
    ("cosine_restarts", "T_mult"): "restarts-t-mult-ignored",
    ("cosine_restarts", "eta_min"): "restarts-eta-min-ignored",
    ("reduce_on_plateau", "factor"): "plateau-factor-ignored",
    ("reduce_on_plateau", "patience"): "plateau-patience-ignored",
    ("reduce_on_plateau", "threshold"): "plateau-threshold-ignored",
    ("reduce_on_plateau", "cooldown"): "plateau-cooldown-ignored",
    ("reduce_on_plateau", "min_lr"): "plateau-min-lr-ignored",
}


def _digest() -> dict[str, str]:
    paths = {m.path for m in MUTATIONS}
    return {p: hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in sorted(paths)}


@pytest.mark.slow
def test_a_subset_is_killed_the_control_survives_and_the_source_is_untouched():
    # No baseline run: the suite itself runs these tests on the unmutated engine.
    before = _digest()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.mutation_check", "--only", *SUBSET, "--no-baseline",
         "--control"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    summary = json.loads(proc.stdout)
    assert (summary["killed"], summary["total"]) == (3, 3), proc.stderr
    assert summary["control"] == "survived", proc.stderr
    assert summary["source_untouched"] and _digest() == before
    assert all(row["killed_by"].startswith("tests/") for row in summary["mutations"])
    assert proc.returncode == 0
