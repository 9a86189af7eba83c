"""Framing benchmark: how fast the daemon's reader takes a large message apart, next to `json.loads`.

    python benchmarks/framing_bench.py [--sizes 5 10 20 40] [--chunk 65536]

A `textDocument/didOpen` of each size (MB) is fed to ``FrameBuffer`` in chunks of --chunk bytes,
as the stdin reader delivers them; the figure is MB/s from the first chunk to the parsed message.
The floor is one `json.loads` of the same body, which the reader cannot beat (it parses once too).
Target (issue 31): a 40 MB message in well under a second. The machine's load is printed with the
figures: on a shared 2-core machine they move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codegen_server.server.framing import FrameBuffer  # noqa: E402


def message(megabytes: int) -> bytes:
    """A framed didOpen whose body is about ``megabytes`` MB of Python text."""
    line = "    total = compute(values[index], scale=2)  # a line of code\n"
    text = line * (megabytes * 1024 * 1024 // len(line))
    body = json.dumps({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": "file:///big.py", "languageId": "python", "version": 1, "text": text}}}).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def read_seconds(data: bytes, chunk: int) -> float:
    buffer = FrameBuffer(max_message=len(data))
    frames = []
    started = time.perf_counter()
    for start in range(0, len(data), chunk):
        buffer.feed(data[start:start + chunk])
        while (frame := buffer.next_frame()) is not None:
            frames.append(frame)
    elapsed = time.perf_counter() - started
    assert len(frames) == 1 and frames[0].body is not None, "the message did not come out whole"
    return elapsed


def loads_seconds(data: bytes) -> float:
    body = data[data.index(b"\r\n\r\n") + 4:]
    started = time.perf_counter()
    json.loads(body)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20, 40], help="message sizes in MB")
    parser.add_argument("--chunk", type=int, default=65536, help="bytes per chunk (the stdin reader's)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; chunks of {args.chunk} bytes")
    print(f"{'size':>6}  {'FrameBuffer':>18}  {'json.loads (floor)':>20}  ratio")
    for megabytes in args.sizes:
        data = message(megabytes)
        reader, floor = read_seconds(data, args.chunk), loads_seconds(data)
        size = len(data) / 1024 / 1024
        print(f"{megabytes:>4} MB  {reader:6.2f} s {size / reader:6.0f} MB/s  {floor:6.2f} s {size / floor:6.0f} MB/s"
              f"  {reader / floor:5.1f}×")


if __name__ == "__main__":
    main()
