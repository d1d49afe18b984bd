"""Capture stage: a chunked byte stream over a capture file, gzip or not, with one reused buffer.

Offsets are positions in the (decompressed) stream. Decompression errors end the stream and are
kept in `error`; nothing is raised past `open_stream`. Must not interpret capture formats.
"""

from __future__ import annotations

import io
import os
import zlib
from types import TracebackType
from typing import BinaryIO, cast

import numpy as np
import numpy.typing as npt

from isdas.errors import CaptureError

GZIP_MAGIC = b"\x1f\x8b"
_READ = 1 << 20


class ByteStream:
    """A window buf[0:n] onto the stream, starting at stream offset `base`."""

    def __init__(self, path: str, chunk_bytes: int) -> None:
        self.path = path
        self.gzipped = False
        self.buf: npt.NDArray[np.uint8] = np.empty(max(chunk_bytes, 4096), dtype=np.uint8)
        self.n = 0
        self.base = 0
        self.eof = False
        self.probe = False  # reading only the first chunk: its end is not a truncation
        self.error: str | None = None
        self._raw: BinaryIO = _open(path)
        self._size = os.fstat(self._raw.fileno()).st_size
        if self._raw.read(2) == GZIP_MAGIC:
            self.gzipped = True
            self._raw.seek(0)
        self._raw.seek(0)
        self._gunzip = Gunzip(self._raw) if self.gzipped else None

    def __enter__(self) -> ByteStream:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (and the decompressor)."""
        self._raw.close()

    def where(self, pos: int) -> str:
        """Human wording of a stream offset: says when it is in the decompressed stream."""
        suffix = " of the decompressed stream" if self.gzipped else ""
        return f"byte {self.base + pos}{suffix}"

    def refill(self, pos: int, need: int = 0) -> bool:
        """Drop buf[:pos], keep the tail, read more; grow to hold `need` bytes. False at EOF."""
        tail = self.n - pos
        if pos > 0:
            self.buf[:tail] = self.buf[pos : self.n]
        self.base += pos
        self.n = tail
        if not self.gzipped:  # a length field never makes us allocate past the file's end
            need = min(need, self._size - self.base)
        if need > len(self.buf):
            grown = np.empty(need, dtype=np.uint8)
            grown[:tail] = self.buf[:tail]
            self.buf = grown
        before = self.n
        self._fill()
        return self.n > before

    def _fill(self) -> None:
        view = memoryview(self.buf)  # type: ignore[arg-type]
        while self.n < len(self.buf) and not self.eof:
            try:
                if self._gunzip is not None:
                    got = self._gunzip.readinto(view[self.n :])
                else:
                    got = cast(io.RawIOBase, self._raw).readinto(view[self.n :]) or 0
            except (EOFError, OSError, zlib.error) as exc:
                self.error = f"decompression failed: {exc}"
                got = 0
            if not got:
                self.eof = True
            else:
                self.n += got


class Gunzip:
    """Incremental gzip decoding that keeps every byte before a truncation or corruption.

    (gzip.GzipFile.readinto loses the bytes of a call that hits the broken end.)
    Concatenated members are read in turn; trailing bytes that are not a member are an error.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._d = zlib.decompressobj(wbits=31)
        self._in = b""

    def readinto(self, view: memoryview) -> int:
        """Decompress up to len(view) bytes into view; 0 at a clean end; raises at a bad one."""
        while True:
            if self._d.eof and not self._next_member():
                return 0
            if not self._in:
                self._in = self._raw.read(_READ)
                if not self._in:
                    raise EOFError("compressed stream ends before its end marker")
            out = self._d.decompress(self._in, len(view))
            self._in = self._d.unconsumed_tail
            if out:
                view[: len(out)] = out
                return len(out)

    def _next_member(self) -> bool:
        rest = self._d.unused_data
        if len(rest) < 2:
            rest += self._raw.read(_READ)
        if not rest:
            return False
        if rest[:2] != GZIP_MAGIC:
            raise OSError("trailing data after the gzip stream")
        self._d = zlib.decompressobj(wbits=31)
        self._in = rest
        return True


def _open(path: str) -> BinaryIO:
    try:
        return open(path, "rb", buffering=0)
    except OSError as exc:
        raise CaptureError(f"cannot open: {exc.strerror}", path=path) from exc


def open_stream(path: str, chunk_bytes: int) -> ByteStream:
    """Open a capture (gzip detected by magic) and fill the first chunk."""
    stream = ByteStream(path, chunk_bytes)
    stream.refill(0)
    return stream
