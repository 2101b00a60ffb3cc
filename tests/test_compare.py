"""compare: mismatches are named in words, never as Python paths into the answer."""

import torch

from autograder import compare


def test_top_level_mismatch_has_no_prefix():
    p = compare.values(torch.zeros(4, 3), torch.zeros(4))
    assert p == "expected shape (4, 3), got shape (4,)"


def test_nested_parts_read_as_items_and_keys():
    exp, got = {"calls": [3, 4]}, {"calls": [3, 5]}
    assert compare.values(exp, got) == "calls, item 2: expected 4, got 5"
    assert "result" not in compare.values([1, 2], [1])
    assert compare.values([1, 2], [1]) == "expected 2 items, got 1"


def test_names_and_path_label_the_parts():
    exp, got = (torch.zeros(2, 3), torch.arange(2)), (torch.zeros(6), torch.arange(2))
    p = compare.values(exp, got, path="batch 2", names={0: "xs", 1: "ys"})
    assert p == "batch 2, xs: expected shape (2, 3), got shape (6,)"
    assert compare.values([exp], [got], names={0: "the batch"}).startswith("the batch, item 1:")


def test_describe_rounds_small_tensors_and_summarises_tuples():
    t = torch.tensor([1 / 3, 2.0])
    assert compare.describe(t) == "tensor([0.3333, 2.0], dtype=torch.float32)"
    assert compare.describe(torch.zeros(5, 3)) == "a tensor of shape (5, 3), dtype torch.float32"
    text = compare.describe([torch.tensor(1), torch.tensor(2)])
    assert text == "a list of 2: tensor(1, dtype=torch.int64), tensor(2, dtype=torch.int64)"


def test_wrong_container_names_what_was_expected():
    p = compare.values((torch.zeros(1), torch.zeros(1)), torch.zeros(5, 3))
    assert p == "expected a tuple of 2 items, got a tensor of shape (5, 3), dtype torch.float32"
