"""Secrets leave this process's environment once the settings are read.

A project's tests (and the fix loop's `RUN:` commands) run as descendants of the daemon or the
CLI, as the same user, and any process of that user can read `/proc/<pid>/environ` of its
ancestors: the API key the daemon was started with would be there for the taking. So once the
model settings hold what they need, ``forget_secrets`` removes every variable that names a key
(``*API_KEY*``, the names ``testing/process.py`` keeps out of test runs for holding secrets), and
keeps every other variable whose value carries URL credentials (`http://user:secret@host`, a
proxy's, say) only in the process's own memory.

Two copies of the environment exist. ``os.environ`` and libc's ``environ`` are changed with
``unsetenv``/``setenv``. But `/proc/<pid>/environ` shows the block the process started with (on
its initial stack, between ``env_start`` and ``env_end``, fields 50 and 51 of `/proc/self/stat`),
which they never change: on Linux its bytes are overwritten in place, through ctypes, once libc
no longer points into them. Elsewhere only the first copy can be changed: on macOS, `ps -E` (and
any process of the same user) still sees the variables the process started with.
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import sys

from .redaction import add_secret

log = logging.getLogger(__name__)

#: Variable names that carry the model's (or any other service's) API key.
SECRET_NAME = re.compile(r"API_?KEY", re.IGNORECASE)
#: A value holding credentials in a URL's userinfo.
_URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#]+@")
#: /proc/self/stat's env_start and env_end, counted from 1 as proc(5) does.
_ENV_START_FIELD, _ENV_END_FIELD = 50, 51


def is_secret_name(name: str) -> bool:
    """Whether a variable of this name holds a key (and so never reaches a test run)."""
    return bool(SECRET_NAME.search(name))


def forget_secrets() -> list[str]:
    """Take secrets out of this process's environment (see the module's docstring); their names.

    Call it after the settings were read: key variables are gone from ``os.environ`` afterwards
    (their values stay redacted from logs and errors), variables with URL credentials keep their
    value for this process but no longer show in `/proc/<pid>/environ`.
    """
    hidden: list[str] = []
    for name, value in list(os.environ.items()):
        if is_secret_name(name):
            add_secret(value)
            del os.environ[name]  # unsetenv: libc's environ no longer points at the start-up copy
            hidden.append(name)
        elif _URL_CREDENTIALS.search(value):
            os.environ[name] = value  # setenv: libc keeps a copy of its own, the start-up one is free
            hidden.append(name)
    if hidden:
        if sys.platform.startswith("linux"):
            _blank_startup_block({os.fsencode(name) for name in hidden})
        else:
            log.info("%s removed from the environment; the process's start-up copy stays visible on %s",
                     ", ".join(hidden), sys.platform)
    return hidden


def _blank_startup_block(names: set[bytes]) -> bool:
    """Overwrite with NUL bytes the start-up copies of ``names`` that libc no longer uses; True if done."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()  # the command name may hold spaces and ")"
        # Field 3 (the state) is the first after the command name.
        start, end = int(fields[_ENV_START_FIELD - 3]), int(fields[_ENV_END_FIELD - 3])
        with open("/proc/self/environ", "rb") as shown:
            block = shown.read()
    except (OSError, ValueError, IndexError):
        log.warning("could not read this process's start-up environment; secrets may stay visible in it")
        return False
    # Only memory the kernel itself names as the environment, and only if it holds what it shows.
    if end <= start or len(block) != end - start or ctypes.string_at(start, end - start) != block:
        log.warning("this process's start-up environment is not where /proc says; secrets may stay visible in it")
        return False
    in_use = _libc_environ_pointers()
    if in_use is None:
        return False
    offset = 0
    for entry in block.split(b"\0"):
        address = start + offset
        name = entry.partition(b"=")[0]
        if name in names and entry and address not in in_use:
            ctypes.memset(address, 0, len(entry))
        offset += len(entry) + 1
    return True


def _libc_environ_pointers() -> set[int] | None:
    """The addresses of the strings libc's ``environ`` holds now (never overwritten), or None."""
    try:
        environ = ctypes.c_void_p.in_dll(ctypes.CDLL(None), "environ").value
    except (OSError, ValueError, AttributeError):
        log.warning("could not find libc's environ; secrets may stay visible in the start-up environment")
        return None
    pointers: set[int] = set()
    array = ctypes.cast(environ, ctypes.POINTER(ctypes.c_void_p))
    index = 0
    while array and (pointer := array[index]) is not None:
        pointers.add(pointer)
        index += 1
    return pointers
