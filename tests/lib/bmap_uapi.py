# SPDX-License-Identifier: GPL-2.0-or-later
"""The bmap ioctls for tests written in Python.

Sizes, offsets and ioctl numbers come from <bmap/uapi.h> as the C compiler
lays it out: tests/lib/uapi-layout (uapi_layout.c, built by
tests/integration's Makefile) prints them, so no test repeats one by hand.

    from bmap_uapi import UAPI as U
    a = U.bmap_lease_args.new(length=U.BMAP_LEASE_TO_EOF, mode=U.BMAP_LEASE_READ)
    fcntl.ioctl(fd, U.BMAP_IOC_LEASE, a)
    lease_id = U.bmap_lease_args.get(a, "lease_id")
"""
import os
import struct
import subprocess

_LAYOUT = os.environ.get("BMAP_UAPI_LAYOUT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "uapi-layout")
_INT = {1: "B", 2: "H", 4: "I", 8: "Q"}    # native byte order, as ioctl


class Struct:
    """One struct of the ABI: its size and its fields' (offset, size)."""

    def __init__(self, name, size):
        self.name, self.size, self.fields = name, size, {}

    def new(self, **values):
        """A zeroed buffer of the struct's size with @values set."""
        buf = bytearray(self.size)
        for k, v in values.items():
            self.set(buf, k, v)
        return buf

    def _fmt(self, field):
        off, size = self.fields[field]
        return off, _INT[size]

    def get(self, buf, field, base=0):
        """The integer @field of the struct at offset @base of @buf."""
        off, fmt = self._fmt(field)
        return struct.unpack_from(fmt, buf, base + off)[0]

    def set(self, buf, field, value, base=0):
        off, fmt = self._fmt(field)
        struct.pack_into(fmt, buf, base + off, value)

    def item(self, field, elem, i):
        """Offset of element @i (a Struct @elem) of the array @field."""
        return self.fields[field][0] + i * elem.size


class _Uapi:
    def __init__(self, lines):
        for line in lines:
            kind, name, *rest = line.split()
            if kind == "const":
                setattr(self, name, int(rest[0]))
            elif kind == "struct":
                setattr(self, name, Struct(name, int(rest[0])))
            elif kind == "field":
                off, size = int(rest[1]), int(rest[2])
                getattr(self, name).fields[rest[0]] = (off, size)


UAPI = _Uapi(subprocess.run([_LAYOUT], check=True, capture_output=True,
                            text=True).stdout.splitlines())
