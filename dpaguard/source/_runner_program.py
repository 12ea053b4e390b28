"""The runner's view of the program's own code: which files are the user's, the one line a failure is, the config it lacks.

Part of the child process of an offline render (`dpaguard.source._runner`, which loads this file by
its path): the standard library and the program's own `pulumi` only. Also loaded in dpaguard's own
process, for `missing_config_text` (a key Pulumi.yaml declares and the stack does not set).
"""

from __future__ import annotations

import sys
import threading
import traceback
from pathlib import Path
from typing import Any

_OWN_DIR = str(Path(__file__).resolve().parent)
MESSAGE_LIMIT = 300


class Paths:
    """Decides which source files are the user's: inside the project, outside any installed package."""

    def __init__(self, root: str, main_dir: str) -> None:
        self.root = root.rstrip("/") + "/"
        self.main_dir = main_dir.rstrip("/") + "/"
        self.prefixes = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})

    def is_user(self, path: str) -> bool:
        """Whether `path` is a file of the program: in the project, not in an installed package nor in dpaguard."""
        return (
            path.startswith(self.root)
            and not path.startswith(_OWN_DIR)
            and "site-packages" not in path
            and not path.startswith(self.prefixes)
        )

    def relative(self, path: str) -> str:
        """`path` relative to the project's root, when it is inside it."""
        return path[len(self.root):] if path.startswith(self.root) else path

    def caller(self) -> str:
        """`file:line` of the innermost frame of the user's code on the current stack, else ''."""
        frame = sys._getframe(1)
        while frame is not None:
            if self.is_user(frame.f_code.co_filename):
                return f"{self.relative(frame.f_code.co_filename)}:{frame.f_lineno}"
            frame = frame.f_back  # type: ignore[assignment]
        return ""


def user_location(error: BaseException, paths: Paths) -> str:
    """`file:line` of the innermost frame of the user's own code the error passed through, else ''."""
    location = getattr(error, "location", None) or ""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and not location:
        seen.add(id(current))
        for frame in reversed(traceback.extract_tb(current.__traceback__)):
            if paths.is_user(frame.filename):
                location = f"{paths.relative(frame.filename)}:{frame.lineno}"
                break
        current = current.__cause__ or current.__context__
    return str(location)


def locate_apply_failures(paths: Paths) -> None:
    """Make an exception raised in a program's `apply` callback carry the program's line it was raised at.

    The SDK hands such an exception on through futures and tasks, and by the time it ends the program
    the traceback it carries may no longer reach the callback (an apply on an id is re-raised where
    the id is awaited); read where it is raised, the line is always there.
    """
    from pulumi.output import Output

    apply = Output.apply

    def located_apply(self: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
        def call(value: Any) -> Any:
            try:
                return func(value)
            except Exception as error:
                if not getattr(error, "location", None):
                    try:
                        error.location = user_location(error, paths)  # type: ignore[attr-defined]
                    except (AttributeError, TypeError):
                        pass  # an exception type without attributes: its traceback is all there is
                raise

        return apply(self, call, *args, **kwargs)

    Output.apply = located_apply  # type: ignore[method-assign]


def error_line(error: BaseException, paths: Paths) -> str:
    """One line from the user's own frames: `file:line: ExceptionType: message`."""
    location = user_location(error, paths)
    if isinstance(error, SyntaxError) and error.filename:
        location = f"{paths.relative(str(Path(error.filename).resolve()))}:{error.lineno or 0}"
        message = error.msg
    else:
        message = str(error)
    message = " ".join(message.split())
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT - 3] + "..."
    kind = type(error).__name__
    text = f"{kind}: {message}" if message else kind
    return f"{location}: {text}" if location else text


def missing_config_text(key: str, config_file: str, secret: bool) -> str:
    """What to write where for a config key a program requires and the stack does not set (no `pulumi` CLI needed)."""
    value = "{secure: <anything>}" if secret else "<value>"
    return (
        f"missing required configuration value '{key}': add `{key}: {value}` under `config:` in {config_file or 'the stack file'}"
        " (offline, a dummy `secure:` value is fine for a secret: dpaguard never decrypts it)"
    )


def missing_configs_text(missing: list[tuple[str, bool, str]], config_file: str) -> str:
    """One line for every config key the program requires and the stack does not set: (key, secret, where)."""
    if len(missing) == 1:
        key, secret, where = missing[0]
        text = missing_config_text(key, config_file, secret)
        return f"{where}: {text}" if where else text
    keys = ", ".join(f"'{key}' ({where})" if where else f"'{key}'" for key, _, where in missing)
    lines = ", ".join(f"`{key}: {'{secure: <anything>}' if secret else '<value>'}`" for key, secret, _ in missing)
    return (
        f"{len(missing)} missing required configuration values, {keys}: add {lines} under `config:` in"
        f" {config_file or 'the stack file'} (offline, a dummy `secure:` value is fine for a secret: dpaguard never decrypts it)"
    )


# What a `require*` method gives back for a key the stack lacks, so the program runs on to the next one.
_PLACEHOLDERS: dict[str, Any] = {"": "dpaguard-missing-config", "bool": False, "int": 1, "float": 1.0, "object": {}}


class MissingConfig:
    """Every config key the program requires and the stack does not set, in the order the program asked.

    `pulumi` stops a program at the first `config.require` of an unset key; offline, dpaguard records
    the key with the user's line, hands the program a placeholder (the render fails anyway), and lets
    it run on, so one run names every key it requires (as far as the program gets with placeholders).
    """

    def __init__(self, paths: Paths, declared: list[list[Any]]) -> None:
        self.paths = paths
        self.lock = threading.Lock()
        self.missing: dict[str, tuple[bool, str]] = {}
        for key, secret, where in declared:  # keys Pulumi.yaml declares without a default, the stack lacks
            self.missing[str(key)] = (bool(secret), str(where))

    def entries(self) -> list[tuple[str, bool, str]]:
        """(key, secret, `file:line` where the program required it) for each missing key."""
        with self.lock:
            return [(key, secret, where) for key, (secret, where) in self.missing.items()]

    def _record(self, key: str, secret: bool) -> None:
        self.add(key, secret, self.paths.caller())

    def add(self, key: str, secret: bool, where: str) -> None:
        """Record a missing key, once, with the first line that required it."""
        with self.lock:
            known_secret, known_where = self.missing.get(key, (False, ""))
            self.missing[key] = (secret or known_secret, known_where or where)

    def install(self) -> None:
        """Wrap the SDK's `Config.require*` methods (3.200 to the newest name them alike)."""
        import pulumi
        from pulumi.config import Config

        for kind in _PLACEHOLDERS:
            for secret in (False, True):
                name = "require" + ("_secret" if secret else "") + (f"_{kind}" if kind else "")
                original = getattr(Config, name, None)
                if original is not None:
                    setattr(Config, name, self._wrapped(original, _PLACEHOLDERS[kind], secret, pulumi))

    def _wrapped(self, original: Any, placeholder: Any, secret: bool, pulumi: Any) -> Any:
        missing = self

        def require(config: Any, key: str) -> Any:
            try:
                return original(config, key)
            except pulumi.ConfigMissingError as error:
                missing._record(str(error.key), bool(error.secret) or secret)
                value = placeholder.copy() if isinstance(placeholder, dict) else placeholder
                return pulumi.Output.secret(value) if secret else value

        require.__name__ = original.__name__
        require.__doc__ = original.__doc__
        return require


def _bytecode_usable(source: str, cached: str) -> bool:
    """Whether the pyc at `cached` is one Python would run for `source` rather than compile it again."""
    import importlib.util
    import os

    try:
        with open(cached, "rb") as handle:
            head = handle.read(16)
        if len(head) < 16 or head[:4] != importlib.util.MAGIC_NUMBER:
            return False
        flags = int.from_bytes(head[4:8], "little")
        if flags == 0:
            status = os.stat(source)
            return (int.from_bytes(head[8:12], "little") == int(status.st_mtime) & 0xFFFFFFFF
                    and int.from_bytes(head[12:16], "little") == status.st_size & 0xFFFFFFFF)
        if flags & 0b10:
            # A checked-hash pyc (dpaguard's cache): Python has just compared it with its source; a source newer
            # than its entry is taken as changed since (hashing every source again would cost each render).
            return os.stat(source).st_mtime <= os.stat(cached).st_mtime
        return bool(flags & 0b01)
    except OSError:
        return False


def bytecode_report() -> dict[str, list[str]]:
    """The imported source files, and those Python had no usable bytecode for (beside them, or in PYTHONPYCACHEPREFIX's cache).

    dpaguard compiles these into its cache after the render (`dpaguard.source.bytecode`): the program
    cannot write bytecode itself, its view of the files being read-only.
    """
    imported, missing = [], []
    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)
        origin, cached = getattr(spec, "origin", None), getattr(spec, "cached", None)
        if isinstance(origin, str) and origin.endswith(".py") and isinstance(cached, str):
            imported.append(origin)
            if not _bytecode_usable(origin, cached):
                missing.append(origin)
    return {"imported": sorted(imported), "missing": sorted(missing)}
