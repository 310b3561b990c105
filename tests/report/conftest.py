"""Fixtures of the report tests: the hand-written evaluation of :mod:`tests.report.frames`."""

from __future__ import annotations

import pytest

from expsql import Experiment
from tests.report.frames import Frames, experiment_named, frames_for


@pytest.fixture
def experiment() -> Experiment:
    return experiment_named()


@pytest.fixture
def frames(experiment: Experiment) -> Frames:
    return frames_for(experiment)
