#!/usr/bin/env python3
"""What one group commit's `fdatasync` costs on this file system, appending versus overwriting preallocated space.

Writes COUNT batches of SIZE bytes (the audit log's typical batch: two or three records) one after another, each
followed by `fdatasync`, into a fresh file in DIRECTORY, and prints the wall time and the process's system and user
CPU per batch for three layouts of the file:

- append:   the file grows with every batch (each sync also commits the new size to the journal);
- zeroed:   the file was filled with zeros first, so a batch overwrites space it already has (the audit log's
            preallocation, `LogAuditStore`);
- fallocate: the space was reserved with posix_fallocate (unwritten extents: converting them is a metadata change).

Usage: sync-probe.py DIRECTORY [--count 5000] [--size 2600] [--rounds 2]
"""
import argparse
import os
import resource
import time


def run(path: str, layout: str, count: int, size: int) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if layout == "zeroed":
            os.write(fd, bytes(count * size + 4096))
            os.fsync(fd)
        elif layout == "fallocate":
            os.posix_fallocate(fd, 0, count * size + 4096)
            os.fsync(fd)
        batch = os.urandom(size)
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for index in range(count):
            os.pwrite(fd, batch, index * size)
            os.fdatasync(fd)
        elapsed, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
        print(
            f"{layout:9s}  wall {elapsed / count * 1e6:7.1f} µs  "
            f"system {(after.ru_stime - before.ru_stime) / count * 1e6:6.1f} µs  "
            f"user {(after.ru_utime - before.ru_utime) / count * 1e6:5.1f} µs  per batch"
        )
    finally:
        os.close(fd)
        os.unlink(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--size", type=int, default=2600)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    path = os.path.join(arguments.directory, f"sync-probe-{os.getpid()}.tmp")
    for _ in range(arguments.rounds):
        for layout in ("append", "zeroed", "fallocate"):
            run(path, layout, arguments.count, arguments.size)


if __name__ == "__main__":
    main()
