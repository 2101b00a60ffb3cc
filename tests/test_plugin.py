"""`pytest NOTEBOOK.ipynb`: the public checks as pytest items (tested with pytester)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import pytest

from autograder.assignment import get

pytest_plugins = ["pytester"]


@pytest.fixture
def nb(pytester):
    def copy(src, name="work.ipynb"):
        dest = pytester.path / name
        shutil.copy(src, dest)
        return dest

    return copy


def test_solution_passes_every_public_check(pytester, nb):
    path = nb(get("minibatch").solution)
    res = pytester.runpytest_subprocess(str(path), "--ag-no-training", "-q")
    res.assert_outcomes(passed=32)
    assert res.ret == 0


def test_stub_fails_with_not_implemented_and_points_in_junit(pytester, nb):
    path = nb(get("minibatch").release)
    xml = pytester.path / "junit.xml"
    res = pytester.runpytest_subprocess(str(path), "--ag-no-training", f"--junitxml={xml}", "-q")
    assert res.ret == 1
    res.stdout.fnmatch_lines(["*softmax::small_batch*", "*not implemented yet*"])
    cases = ET.parse(xml).getroot().iter("testcase")
    props = {
        (c.get("classname"), c.get("name")): {
            p.get("name"): p.get("value") for p in c.iter("property")
        }
        for c in cases
    }
    small = props[("work.ipynb.softmax", "small_batch")]
    assert (small["score"], small["max_score"], small["hidden"]) == ("0.0", "1.0", "False")


def test_notebooks_are_not_collected_unless_named(pytester, nb):
    nb(get("minibatch").release, "stray.ipynb")
    pytester.makepyfile(test_x="def test_ok():\n    assert True\n")
    res = pytester.runpytest_subprocess("-q")
    res.assert_outcomes(passed=1)


def test_training_check_is_an_item(pytester, nb):
    path = nb(get("minibatch").release)
    res = pytester.runpytest_subprocess(str(path), "-q", "-k", "mnist_training")
    res.assert_outcomes(failed=1, deselected=32)
    res.stdout.fnmatch_lines(["*not implemented yet*"])


def test_a_planted_conftest_cannot_pass_checks_with_noconftest(pytester, nb):
    path = nb(get("minibatch").release)
    pytester.makeconftest(
        "import pytest\n"
        "@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    out = yield\n"
        "    out.get_result().outcome = 'passed'\n"
    )
    cheated = pytester.runpytest_subprocess(str(path), "--ag-no-training", "-q")
    cheated.assert_outcomes(passed=32)  # why graders must not run a submission folder's conftest
    res = pytester.runpytest_subprocess(str(path), "--ag-no-training", "-q", "--noconftest")
    res.assert_outcomes(failed=32, passed=0)  # a stub passes no gate
