"""The only language parent and worker share: JSON plus safetensors bytes, framed on a pipe.

Nothing here unpickles or evaluates: a message decodes to None, bools, numbers, strings, lists,
tuples, dicts, plain tensors, and `Opaque` placeholders for anything else the student returned.
This file is also loaded by the worker, by path, so it imports nothing from the package.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

MAX_MESSAGE = 256 * 2**20  # bytes; a bigger answer is refused, never allocated
MAX_HEADER = 8 * 2**20  # bytes of JSON header: tensors travel in the payload, so this is plenty
MAX_TENSOR_BYTES = 64 * 2**20  # a single returned tensor above this travels as an Opaque
MAX_STR = 100_000  # whole cells travel as strings: at least extract.MAX_CELL_CHARS
MAX_ITEMS = 10_000
MAX_DEPTH = 12
PLAIN_TENSORS = ("torch.Tensor", "torch.nn.parameter.Parameter")


class ProtocolError(Exception):
    "The other side sent something that is not a well-formed message."


class Opaque:
    "Stands in for a value that is not data we accept (an object, a numpy array, a subclass...)."

    def __init__(self, type: str, repr: str):
        self.type, self.repr = type, repr

    def __repr__(self):
        return f"<{self.type}: {self.repr}>"

    def __eq__(self, other):
        return isinstance(other, Opaque) and (self.type, self.repr) == (other.type, other.repr)


def type_name(obj) -> str:
    t = type(obj)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _safe_repr(obj) -> str:
    try:
        return repr(obj)[:200]
    except BaseException as e:  # a hostile __repr__ must not stop the answer
        return f"<repr failed: {type(e).__name__}>"


def _plain(t: torch.Tensor) -> torch.Tensor | None:
    try:
        t = torch.Tensor.as_subclass(t, torch.Tensor).detach()
        if (
            t.layout != torch.strided
            or t.is_meta
            or t.is_complex()
            or t.is_quantized
            or t.is_nested
        ):
            return None
        if t.numel() * t.element_size() > MAX_TENSOR_BYTES:
            return None
        return t.cpu().clone().contiguous()
    except BaseException:
        return None


def to_data(obj, tensors: dict, depth: int = 0):
    "Turn a value into JSON-able data, moving tensors into `tensors`."
    if depth > MAX_DEPTH:
        return {"__opaque__": type_name(obj), "repr": "nested too deeply"}
    if obj is None or isinstance(obj, bool) or type(obj) in (int, float):
        return obj
    if type(obj) is str:
        return obj[:MAX_STR]
    if isinstance(obj, torch.Tensor):
        name, plain = type_name(obj), _plain(obj)
        if plain is None:
            try:
                shape = f", shape {tuple(obj.shape)}"
            except BaseException:  # nested tensors have no single shape
                shape = ""
            return {"__opaque__": name, "repr": f"a tensor that cannot travel as data{shape}"}
        key = f"t{len(tensors)}"
        tensors[key] = plain
        return {"__tensor__": key, "type": name}
    if type(obj) in (list, tuple):
        items = [to_data(v, tensors, depth + 1) for v in obj[:MAX_ITEMS]]
        return items if type(obj) is list else {"__tuple__": items}
    if type(obj) is dict and all(type(k) is str for k in obj):
        return {
            "__dict__": {
                k: to_data(v, tensors, depth + 1) for k, v in list(obj.items())[:MAX_ITEMS]
            }
        }
    return {"__opaque__": type_name(obj), "repr": _safe_repr(obj)}


def from_data(d, tensors: dict):
    "Inverse of to_data: rebuild values, with Opaque for what was not plain data."
    if isinstance(d, list):
        return [from_data(v, tensors) for v in d]
    if not isinstance(d, dict):
        return d
    if "__tensor__" in d:
        t = tensors[d["__tensor__"]]
        if d.get("type") not in PLAIN_TENSORS:
            return Opaque(d.get("type", "?"), f"tensor subclass, shape {tuple(t.shape)}")
        return t
    if "__tuple__" in d and isinstance(d["__tuple__"], list):
        return tuple(from_data(v, tensors) for v in d["__tuple__"])
    if "__dict__" in d and isinstance(d["__dict__"], dict):
        return {k: from_data(v, tensors) for k, v in d["__dict__"].items()}
    if "__opaque__" in d:
        return Opaque(str(d["__opaque__"]), str(d.get("repr", "")))
    raise ProtocolError(f"unknown record with keys {sorted(d)[:5]}")


def encode(obj) -> bytes:
    "One framed message: header length, JSON header, payload length, safetensors payload."
    tensors: dict = {}
    header = json.dumps(to_data(obj, tensors)).encode()
    payload = st_save(tensors) if tensors else b""
    return struct.pack(">Q", len(header)) + header + struct.pack(">Q", len(payload)) + payload


def decode(header: bytes, payload: bytes):
    tensors = st_load(payload) if payload else {}
    return from_data(json.loads(header), tensors)


def unframe(blob: bytes):
    "What `encode` framed, from bytes (a file that holds one message)."
    (n,) = struct.unpack(">Q", blob[:8])
    (m,) = struct.unpack(">Q", blob[8 + n : 16 + n])
    return decode(blob[8 : 8 + n], blob[16 + n : 16 + n + m])


def write_message(fd: int, obj) -> None:
    data = memoryview(encode(obj))
    while data:
        data = data[os.write(fd, data) :]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_message(fd: int, timeout: float | None = None):
    "Read one message; TimeoutError past the timeout, EOFError if the writer is gone."
    deadline = None if timeout is None else time.monotonic() + timeout
    (n,) = struct.unpack(">Q", _read_exact(fd, 8, deadline))
    if n > MAX_HEADER:  # refused before anything is allocated or read
        raise ProtocolError(f"message header of {n} bytes is over the limit ({MAX_HEADER})")
    header = _read_exact(fd, n, deadline)
    (m,) = struct.unpack(">Q", _read_exact(fd, 8, deadline))
    if m > MAX_MESSAGE:
        raise ProtocolError(f"message payload of {m} bytes is over the limit")
    payload = _read_exact(fd, m, deadline)
    try:
        return decode(header, payload)
    except Exception as e:  # whatever the bytes hold, the reader gets one kind of error
        raise ProtocolError(f"malformed message: {type(e).__name__}: {str(e)[:200]}") from None
