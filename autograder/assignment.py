"""Where an assignment lives and which exercises it has: the contract notebooks and checks share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.policy import Policy

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Exercise:
    "One graded cell: its nbgrader grade_id and the names the student's cell must define."

    grade_id: str
    defines: tuple[str, ...]
    title: str


@dataclass(frozen=True)
class Assignment:
    "A notebook of exercises: source in solutions/NAME/, release in assignments/NAME/."

    name: str
    exercises: tuple[Exercise, ...]
    setup_id: str = "setup"
    mnist_run: bool = False  # whether the graded MNIST run (mnist_training) belongs to it
    policy: Policy = Policy()  # what its exercise cells may import and reach (autograder.policy)

    @property
    def notebook(self) -> str:
        return f"{self.name}.ipynb"

    @property
    def solution(self) -> Path:
        return ROOT / "solutions" / self.name / self.notebook

    @property
    def release(self) -> Path:
        return ROOT / "assignments" / self.name / self.notebook

    @property
    def tests(self) -> Path:
        """The assignment's pytest tests: public ones here, hidden ones in tests/hidden/. The
        student bundle has no solutions/: its public tests are in its own tests/NAME/."""
        kit = ROOT / "solutions" / self.name / "tests"
        return kit if kit.is_dir() else ROOT / "tests" / self.name

    @property
    def ids(self) -> list[str]:
        return [e.grade_id for e in self.exercises]


E = Exercise
MINIBATCH = Assignment(
    "minibatch",
    (
        E("softmax", ("softmax",), "softmax over the rows of a batch"),
        E("logsumexp", ("logsumexp",), "a numerically stable logsumexp"),
        E("log_softmax", ("log_softmax",), "log_softmax through logsumexp"),
        E("nll", ("nll",), "negative log-likelihood"),
        E("accuracy", ("accuracy",), "classification accuracy"),
        E("module_registration", ("MyModule",), "registering modules in __setattr__"),
        E("optimizer", ("Optimizer",), "an SGD optimizer"),
        E("dataset", ("Dataset",), "a Dataset"),
        E("sampler", ("Sampler",), "a Sampler that can shuffle"),
        E("batch_sampler", ("BatchSampler",), "a BatchSampler"),
        E("collate", ("collate",), "collating samples into a batch"),
        E("dataloader", ("DataLoader",), "a DataLoader"),
        E("fit", ("fit",), "a training loop with validation"),
    ),
    mnist_run=True,
    # registration is the exercise: no nn.Module (nor any torch class) underneath MyModule
    policy=Policy(no_bases=(("module_registration", ("torch",)),)),
)
# The graded MNIST run: it has no cell of its own and uses the student's whole pipeline.
TRAINING_ID = "mnist_training"

ASSIGNMENTS = {a.name: a for a in [MINIBATCH]}


def get(name: str = "minibatch") -> Assignment:
    "The assignment called name, or a clear error listing the known ones."
    if name not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {name!r}; known: {', '.join(ASSIGNMENTS)}")
    return ASSIGNMENTS[name]
