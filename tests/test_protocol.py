"""The parent/worker protocol: JSON plus safetensors on a pipe, never pickle, never trusted."""

import json
import os
import pickle
import struct
import threading

import numpy as np
import pytest
import torch
from safetensors import SafetensorError
from torch import nn

from autograder import protocol
from autograder.protocol import Opaque, ProtocolError, read_message, write_message


def frame(header: bytes, payload: bytes = b"") -> bytes:
    "A message framed by hand, the way a hostile worker could write one."
    return struct.pack(">Q", len(header)) + header + struct.pack(">Q", len(payload)) + payload


def via_bytes(obj):
    "encode, then decode the two parts of the frame."
    data = protocol.encode(obj)
    (n,) = struct.unpack(">Q", data[:8])
    (m,) = struct.unpack(">Q", data[8 + n : 16 + n])
    assert len(data) == 16 + n + m
    return protocol.decode(data[8 : 8 + n], data[16 + n :])


def via_pipe(obj):
    "write_message on one end of a real pipe, read_message on the other (a thread writes)."
    r, w = os.pipe()
    try:
        writer = threading.Thread(target=write_message, args=(w, obj))
        writer.start()
        got = read_message(r, timeout=10)
        writer.join()
        return got
    finally:
        os.close(r)
        os.close(w)


@pytest.fixture
def pipe():
    r, w = os.pipe()
    fds = {"r": r, "w": w}
    yield fds
    for fd in fds.values():
        if fd is not None:
            os.close(fd)


def send_raw(pipe, data: bytes):
    os.write(pipe["w"], data)


def close_writer(pipe):
    os.close(pipe["w"])
    pipe["w"] = None


@pytest.fixture(params=[via_bytes, via_pipe], ids=["bytes", "pipe"])
def roundtrip(request):
    return request.param


def same_tensor(got, want):
    assert type(got) is torch.Tensor
    torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)


# Tensors


@pytest.mark.parametrize(
    "t",
    [
        torch.randn(3, 4),
        torch.randn(2, 5, dtype=torch.float64),
        torch.tensor([[1, -2], [3, 2**40]]),
        torch.tensor([True, False, True]),
        torch.randn(4, 3).to(torch.bfloat16),
        torch.tensor(3.5),
        torch.zeros(0, 7),
        torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0]),
    ],
    ids=["float32", "float64", "int64", "bool", "bfloat16", "0-d", "empty", "nan-inf"],
)
def test_tensor_roundtrip_keeps_dtype_shape_values(roundtrip, t):
    got = roundtrip(t)
    same_tensor(got, t)
    assert got.dtype == t.dtype and got.shape == t.shape


def test_non_contiguous_view_arrives_with_its_values(roundtrip):
    x = torch.arange(12.0).reshape(3, 4)
    view = x.T
    assert not view.is_contiguous()
    got = roundtrip(view)
    same_tensor(got, view)
    assert got.shape == (4, 3)


def test_views_sharing_storage_arrive_as_independent_tensors(roundtrip):
    x = torch.arange(12.0).reshape(3, 4)
    a, row, col = roundtrip((x, x[1], x[:, 2]))
    same_tensor(a, x)
    same_tensor(row, x[1])
    same_tensor(col, x[:, 2])
    row.fill_(-1)  # the decoded tensors do not alias one another
    same_tensor(a, x)


def test_a_small_view_of_a_big_tensor_sends_only_the_view():
    big = torch.zeros(1000, 1000)
    assert len(protocol.encode(big[3, :10])) < 1000


def test_parameter_and_grad_tensors_arrive_as_plain_detached_tensors(roundtrip):
    p = nn.Parameter(torch.ones(2, 3))
    got_p, got_g = roundtrip([p, torch.ones(2, requires_grad=True) * 2])
    same_tensor(got_p, torch.ones(2, 3))
    same_tensor(got_g, torch.full((2,), 2.0))
    assert not got_p.requires_grad and not got_g.requires_grad


def test_tensor_subclass_arrives_as_opaque(roundtrip):
    class T(torch.Tensor):
        pass

    got = roundtrip(torch.zeros(2, 3).as_subclass(T))
    assert isinstance(got, Opaque)
    assert got.type.endswith("T") and "(2, 3)" in got.repr


def test_tensor_over_the_size_limit_becomes_opaque(roundtrip, monkeypatch):
    monkeypatch.setattr(protocol, "MAX_TENSOR_BYTES", 64)
    small, big = roundtrip([torch.zeros(16), torch.zeros(17)])  # 64 and 68 bytes of float32
    same_tensor(small, torch.zeros(16))
    assert isinstance(big, Opaque) and big.type == "torch.Tensor"
    assert "17" in big.repr  # says which shape could not travel


# Plain data


def test_nested_containers_keep_their_types(roundtrip):
    value = {
        "tuple": (1, [2.5, (3, "x")], ()),
        "list": [None, True, False, []],
        "dict": {"inner": {"deeper": (None,)}},
        "big": 2**70,
    }
    got = roundtrip(value)
    assert got == value  # == between tuple and list is False, so types are checked too
    assert type(got["tuple"]) is tuple and type(got["tuple"][1]) is list
    assert type(got["tuple"][1][1]) is tuple
    assert got["list"][1] is True and got["list"][2] is False


def test_nan_and_inf_floats(roundtrip):
    nan, inf, ninf = roundtrip([float("nan"), float("inf"), -float("inf")])
    assert nan != nan and inf == float("inf") and ninf == -float("inf")


def test_tensors_inside_containers(roundtrip):
    got = roundtrip({"loss": torch.tensor(0.5), "pair": (torch.ones(2), [torch.arange(3)])})
    same_tensor(got["loss"], torch.tensor(0.5))
    same_tensor(got["pair"][0], torch.ones(2))
    same_tensor(got["pair"][1][0], torch.arange(3))


def test_long_strings_are_cut(roundtrip):
    assert roundtrip("a" * (protocol.MAX_STR + 50)) == "a" * protocol.MAX_STR


# Everything else is Opaque


def a_function(x):
    return x


@pytest.mark.parametrize(
    "value, type_name",
    [
        (object(), "object"),
        (np.arange(3), "numpy.ndarray"),
        (a_function, "function"),
        ({1: "non-string key"}, "dict"),
        ({"a", "set"}, "set"),
        (b"bytes", "bytes"),
    ],
    ids=["object", "numpy", "function", "int-key-dict", "set", "bytes"],
)
def test_other_values_arrive_as_opaque(roundtrip, value, type_name):
    got = roundtrip(value)
    assert got == Opaque(type_name, got.repr)
    assert got.repr  # something for the message


def test_opaque_says_what_it_was():
    got = via_bytes(np.arange(3))
    assert "array([0, 1, 2])" in got.repr
    assert "numpy.ndarray" in repr(got)


@pytest.mark.parametrize("exc", [RuntimeError, SystemExit, KeyboardInterrupt])
def test_hostile_repr_still_encodes(roundtrip, exc):
    class Hostile:
        def __repr__(self):
            raise exc("no")

    got = roundtrip([1, Hostile()])
    assert got[0] == 1 and isinstance(got[1], Opaque)
    assert exc.__name__ in got[1].repr


def test_nesting_is_cut_at_the_depth_limit(roundtrip):
    deep = "bottom"
    for _ in range(protocol.MAX_DEPTH * 2):
        deep = [deep]
    got, depth = roundtrip(deep), 0
    while isinstance(got, list):
        got, depth = got[0], depth + 1
    assert isinstance(got, Opaque) and "nested too deeply" in got.repr
    assert depth == protocol.MAX_DEPTH + 1


def test_a_self_referencing_list_encodes(roundtrip):
    loop = []
    loop.append(loop)
    got = roundtrip(loop)
    assert isinstance(got, list) and isinstance(got[0], list)


# Reading: timeouts, closed pipes, garbage


def test_timeout_when_nothing_arrives(pipe):
    with pytest.raises(TimeoutError):
        read_message(pipe["r"], timeout=0.05)


def test_timeout_when_a_message_stops_halfway(pipe):
    send_raw(pipe, protocol.encode([1, 2, 3])[:12])
    with pytest.raises(TimeoutError):
        read_message(pipe["r"], timeout=0.05)


def test_eof_when_the_writer_closed(pipe):
    close_writer(pipe)
    with pytest.raises(EOFError):
        read_message(pipe["r"], timeout=1)


def test_eof_when_the_writer_closed_mid_message(pipe):
    send_raw(pipe, protocol.encode({"a": 1})[:10])
    close_writer(pipe)
    with pytest.raises(EOFError):
        read_message(pipe["r"])


def test_messages_follow_one_another_on_the_pipe(pipe):
    write_message(pipe["w"], {"n": 1})
    write_message(pipe["w"], (torch.ones(2), "two"))
    assert read_message(pipe["r"], timeout=1) == {"n": 1}
    t, s = read_message(pipe["r"], timeout=1)
    same_tensor(t, torch.ones(2))
    assert s == "two"


@pytest.mark.parametrize("part", ["header", "payload"])
def test_a_length_over_the_limit_is_refused_without_reading_on(pipe, part):
    too_big = struct.pack(">Q", protocol.MAX_MESSAGE + 1)
    send_raw(pipe, too_big if part == "header" else struct.pack(">Q", 2) + b"[]" + too_big)
    with pytest.raises(ProtocolError, match="over the limit"):
        read_message(pipe["r"], timeout=1)  # refused at once: no TimeoutError waiting for bytes


TENSOR_HEADER = json.dumps({"__tensor__": "t0", "type": "torch.Tensor"}).encode()


def uncaught(exc):
    "Other errors once escaped read_message; now every malformed message is a ProtocolError."
    return ()


@pytest.mark.parametrize(
    "header, payload",
    [
        pytest.param(b"{not json", b"", id="bad-json"),
        pytest.param(b"\xff\xfe\x00", b"", id="not-utf8"),
        pytest.param(b'{"who": "knows"}', b"", id="unknown-record"),
        pytest.param(TENSOR_HEADER, b"", id="tensor-missing-from-payload"),
        pytest.param(b'{"__tuple__": 5}', b"", id="tuple-not-a-list"),
        pytest.param(
            TENSOR_HEADER,
            b"\x08\x00\x00\x00\x00\x00\x00\x00garbage!",
            id="bad-safetensors",
            marks=uncaught(SafetensorError),
        ),
        pytest.param(
            b'{"__dict__": 5}',
            b"",
            id="dict-not-a-mapping",
            marks=uncaught(AttributeError),
        ),
        pytest.param(
            b"[" * 100_000 + b"]" * 100_000,
            b"",
            id="json-nested-too-deep",
            marks=uncaught(RecursionError),
        ),
    ],
)
def test_malformed_message_is_a_protocol_error(pipe, header, payload):
    writer = threading.Thread(target=send_raw, args=(pipe, frame(header, payload)))
    writer.start()
    try:
        with pytest.raises(ProtocolError):
            read_message(pipe["r"], timeout=5)
    finally:
        writer.join()


class Boom:
    "Unpickling this would create a file: proof that something ran."

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_header_is_refused_not_run(pipe, tmp_path):
    marker = tmp_path / "pwned"
    blob = pickle.dumps(Boom(marker))
    send_raw(pipe, frame(blob))
    with pytest.raises(ProtocolError):
        read_message(pipe["r"], timeout=1)
    assert not marker.exists()
    pickle.loads(blob).close()  # the same bytes, unpickled, would have run
    assert marker.exists()


def test_pickle_payload_is_never_run(pipe, tmp_path):
    marker = tmp_path / "pwned"
    send_raw(pipe, frame(TENSOR_HEADER, pickle.dumps(Boom(marker))))
    with pytest.raises(ProtocolError):
        read_message(pipe["r"], timeout=1)
    assert not marker.exists()


def test_decode_never_unpickles(tmp_path):
    marker = tmp_path / "pwned"
    blob = pickle.dumps(Boom(marker))
    for header, payload in [(blob, b""), (TENSOR_HEADER, blob)]:
        with pytest.raises(Exception):  # noqa: B017 any refusal will do; running it will not
            protocol.decode(header, payload)
    assert not marker.exists()
