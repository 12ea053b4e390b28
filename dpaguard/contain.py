"""Child processes that cannot outlive dpaguard nor read its environment: the program of an offline render, checkov.

dpaguard never starts such a child itself. It starts this module (`python -m dpaguard.contain`) with
an allow-listed environment (`clean_env`), in a session of its own, and this launcher starts the
command. The launcher:

- puts the command, where the kernel allows it, in a PID and mount namespace of its own with a
  fresh /proc: the command sees no process but its own descendants (not dpaguard, not the CI
  shell above it), and when the launcher stops, the kernel kills every process in the namespace,
  whatever session it started or environment it cleared. Elsewhere the launcher is a child
  subreaper: orphans of the command become its children, and it kills every descendant it finds
  (walking /proc) before it exits;
- drops, from the command's capabilities, those that read other processes' memory and
  environment (CAP_SYS_PTRACE and friends) and sets no_new_privs, so a command running as root
  cannot read a non-dumpable dpaguard's /proc/<pid>/environ or /proc/<pid>/mem either
  (`harden_self` makes dpaguard non-dumpable);
- with `--writable`/`--scratch`, gives the command a read-only view of the whole file system in its
  mount namespace: only the folders named `--writable` (dpaguard's private work folder) stay
  writable, and each `--scratch` folder (and /dev/shm) is a fresh tmpfs that dies with the namespace.
  The program of a pull request then cannot change what dpaguard reads after it: dpaguard's own
  installed modules, the project's `policies/` and `.git`, the files scanned after the render;
- stops everything at once on SIGTERM (dpaguard's timeout, SIGINT or SIGTERM), and when
  dpaguard dies (PR_SET_PDEATHSIG).

Linux only. With `--require-isolation` the launcher refuses to run the command where the kernel
refuses the namespaces (exit NO_ISOLATION); with `--isolate` it runs it there without them (SECURITY.md).
"""

from __future__ import annotations

import ctypes
import math
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any, Mapping, Sequence

# The environment a contained command gets: what Python, the Pulumi SDK's mock runtime and a
# program's own imports need to start, nothing that could be a credential. CI secrets
# (GITHUB_TOKEN, DATABASE_URL, CI_JOB_JWT, SLACK_WEBHOOK_URL, NPM_TOKEN, cloud keys ...) never
# pass, whatever their name. PULUMI_CONFIG* and the other PULUMI_* variables a `pulumi` run sets
# are left out too: the offline render hands the mock runtime its project, stack and config
# itself; only two flags that change how the SDK behaves pass.
ALLOWED_ENV = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
    "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "PYTHONUSERBASE", "PYTHONSAFEPATH",
    "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONUTF8", "PYTHONIOENCODING", "PYTHONHASHSEED",
    "PYTHONWARNINGS", "PYTHONDEVMODE", "PYTHONFAULTHANDLER",
    "PULUMI_ENABLE_LEGACY_APPLY", "PULUMI_ERROR_OUTPUT_STRING",
    # where a program may place its resources, as the Scaleway provider would read them: no credential
    "SCW_DEFAULT_REGION", "SCW_DEFAULT_ZONE",
})
ALLOWED_ENV_PREFIXES = ("LC_",)
# How long a launcher asked to stop may take before its whole session is killed outright.
STOP_GRACE_S = 5.0
# A bound far above any useful time limit, below what the clocks and selects of the stages can take.
MAX_SECONDS = 10_000_000.0


def is_time_limit(seconds: float) -> bool:
    """Whether a time limit is usable: a positive, finite number of seconds (not nan, inf or 1e309), at most MAX_SECONDS."""
    return math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS


_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
# mount_setattr(2) (Linux 5.12): the one call that makes a whole tree of mounts read-only, submounts included.
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (the syscall table is unified since 5.1)
_AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1
# A scratch tmpfs: private to the command, and bounded (its pages are memory, outside the address-space limit).
SCRATCH_OPTIONS = b"mode=0700,size=1g"
# The launcher's exit code when the command needed namespaces the kernel refused: it never ran.
NO_ISOLATION = 125
# ... and when the namespace was made but its read-only view could not be: it never ran either.
NO_VIEW = 126
# Capabilities that reach into another process or the kernel: ptrace (environ, mem), raw I/O
# (/dev/mem, /proc/kcore), modules, sysadmin (umount the fresh /proc, remount the read-only view), BPF
# and perf; and sys_resource, with which a command running as root would raise its own hard limits.
_DROPPED_CAPS = (19, 17, 16, 21, 39, 38, 24)


def _libc() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, arg: int) -> bool:
    libc = _libc()
    return libc is not None and sys.platform.startswith("linux") and libc.prctl(option, arg, 0, 0, 0) == 0


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment reduced to ALLOWED_ENV (and LC_*), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k in ALLOWED_ENV or k.startswith(ALLOWED_ENV_PREFIXES)}
    env.update(extra or {})
    return env


def harden_self() -> None:
    """Make this process non-dumpable: its /proc/<pid>/environ and memory are closed to processes without CAP_SYS_PTRACE."""
    _prctl(_PR_SET_DUMPABLE, 0)


_live: set[Contained] = set()
_live_lock = threading.Lock()
_stopping = False  # set by stop_all until resume(): a command started meanwhile is stopped at once


class Contained:
    """A command running under the launcher; `stop()` ends it and every process it started."""

    def __init__(
        self, command: Sequence[str], *, cwd: str, env: Mapping[str, str], isolate: bool,
        stdout: int | IO[Any] | None = subprocess.DEVNULL, stderr: int | IO[Any] | None = subprocess.DEVNULL,
        required: bool = False, writable: Sequence[str] = (), scratch: Sequence[str] = (),
    ) -> None:
        """`required`: namespaces or nothing (exit NO_ISOLATION); `writable`/`scratch`: a read-only view but those (see the module)."""
        mode = "--no-isolate" if not isolate else "--require-isolation" if required else "--isolate"
        view = [arg for folder in writable for arg in ("--writable", folder)]
        view += [arg for folder in scratch for arg in ("--scratch", folder)]
        launcher = [sys.executable, "-m", "dpaguard.contain", mode, *view, "--", *command]
        self.process = subprocess.Popen(
            launcher, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )
        # A stop signal can reach dpaguard between the fork and this line: the command then runs, but
        # stop_all did not see it. Registering and reading the flag under one lock closes that window.
        with _live_lock:
            stopping = _stopping
            if not stopping:
                _live.add(self)
        if stopping:
            self.stop()

    def wait(self, timeout: float | None = None) -> int:
        """The command's exit code (negative: killed by that signal); TimeoutExpired after `timeout`."""
        code = self.process.wait(timeout=timeout)
        self._forget()
        return code

    def stop(self) -> None:
        """End the command and all it started: the launcher is asked first, its session killed if it does not answer."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=STOP_GRACE_S)
            except (subprocess.TimeoutExpired, OSError):
                # Not reaped yet, so its pid (the session's id) cannot have been reused.
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except OSError:
                    pass
        self.process.wait()
        self._forget()

    def _forget(self) -> None:
        with _live_lock:
            _live.discard(self)


def stop_all() -> None:
    """Stop every contained command still running (dpaguard was interrupted or terminated), and every
    one started from now until resume()."""
    global _stopping
    with _live_lock:
        _stopping = True
        running = list(_live)
    for contained in running:
        contained.stop()


def resume() -> None:
    """Commands may run again (the threads that started the stopped ones have ended)."""
    global _stopping
    with _live_lock:
        _stopping = False


def run(
    command: Sequence[str], *, cwd: Any, env: Mapping[str, str], timeout: float, capture_output: bool = True,
    check: bool = False, stdin: Any = None, text: bool = False, isolate: bool = False,
    required: bool = False, scratch: Sequence[str] = (),
) -> subprocess.CompletedProcess[Any]:
    """subprocess.run for a tool (checkov, git, poetry): on timeout every process it started is killed, then TimeoutExpired.

    `isolate` puts it in PID and mount namespaces of its own too, as the program of a render;
    `required` with `scratch`: namespaces or nothing (exit NO_ISOLATION), and a read-only view of the
    files but for the `scratch` folders.
    """
    del check, stdin  # always unchecked, stdin always closed
    pipe = subprocess.PIPE if capture_output else subprocess.DEVNULL
    contained = Contained(command, cwd=str(cwd), env=env, isolate=isolate or required, stdout=pipe, stderr=pipe,
                          required=required, scratch=scratch)
    try:
        out, err = contained.process.communicate(timeout=timeout)
    except BaseException:
        contained.stop()
        raise
    contained.wait()
    if text:
        return subprocess.CompletedProcess(
            list(command), contained.process.returncode, (out or b"").decode("utf-8", "replace"), (err or b"").decode("utf-8", "replace")
        )
    return subprocess.CompletedProcess(list(command), contained.process.returncode, out, err)


# ---------------------------------------------------------------- the launcher (python -m dpaguard.contain)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces and parentheses: the fields after its last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(name))
    return children


def descendants(root: int) -> list[int]:
    """Every process below `root`, found by walking the parent links in /proc."""
    children = _children_map()
    found: list[int] = []
    pending = list(children.get(root, ()))
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_descendants(root: int, rounds: int = 500) -> None:
    """SIGKILL every descendant of `root` until none is left (a fork racing the kill is caught next round)."""
    for _ in range(rounds):
        found = descendants(root)
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if root == os.getpid():
            _reap()
        time.sleep(0.005)


def _drop_privileges() -> None:
    """What the command must not be able to do, even as root: read other processes, regain privileges."""
    for capability in _DROPPED_CAPS:
        _prctl(_PR_CAPBSET_DROP, capability)  # fails without CAP_SETPCAP: then there was nothing to drop
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)


def _isolate() -> bool:
    """Enter new PID and mount namespaces (and a user namespace when not root); False where the kernel refuses."""
    libc = _libc()
    if libc is None or not sys.platform.startswith("linux"):
        return False
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWPID | _CLONE_NEWNS | (0 if uid == 0 else _CLONE_NEWUSER)
    if libc.unshare(flags) != 0:
        return False
    if uid != 0:
        try:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as handle:
                    handle.write(text)
        except OSError:
            return False
    return True


def _mount_proc() -> bool:
    libc = _libc()
    if libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    return bool(libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None) == 0)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _set_read_only(path: str, *, read_only: bool, recursive: bool) -> bool:
    libc = _libc()
    attr = _MountAttr(_MOUNT_ATTR_RDONLY if read_only else 0, 0 if read_only else _MOUNT_ATTR_RDONLY, 0, 0)
    flags = _AT_RECURSIVE if recursive else 0
    answer = libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, os.fsencode(path), flags, ctypes.byref(attr), ctypes.sizeof(attr))
    return bool(answer == 0)


def _read_only_view(writable: Sequence[str], scratch: Sequence[str]) -> bool:
    """Make every mount of this (private) mount namespace read-only, but `writable`; a fresh tmpfs on each `scratch`.

    Called in the namespace's init, after `_mount_proc` made the mounts private: nothing here reaches the
    rest of the machine. The command then loses CAP_SYS_ADMIN (`_drop_privileges`), and mounts made in a
    more privileged namespace are locked in any namespace it could create: it cannot undo the view.
    """
    libc = _libc()
    for folder in writable:
        # a mount of its own, so that it alone can be made writable again below
        if libc.mount(os.fsencode(folder), os.fsencode(folder), None, _MS_BIND, None) != 0:
            return False
    if not _set_read_only("/", read_only=True, recursive=True):
        return False
    for folder in writable:
        if not _set_read_only(folder, read_only=False, recursive=False):
            return False
    for folder in (*scratch, "/dev/shm"):
        if folder == "/dev/shm" and not os.path.isdir(folder):
            continue
        if libc.mount(b"tmpfs", os.fsencode(folder), b"tmpfs", _MS_NOSUID | _MS_NODEV, SCRATCH_OPTIONS) != 0:
            return False
    return True


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


def _supervise(command: Sequence[str], *, in_namespace: bool) -> int:
    """Start the command, reap everything below, return the command's exit code once it has ended."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    _drop_privileges()
    try:
        child = subprocess.Popen(list(command), close_fds=True, restore_signals=True)
    except OSError:
        return 127
    code = 0
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child.pid:
            code = _exit_code(status)
            child.returncode = code
            break
    if not in_namespace:
        kill_descendants(os.getpid())
    # In a namespace, this process is its init: when it exits the kernel kills every process left in it.
    return code


def _launch(
    command: Sequence[str], isolate: bool, *, required: bool = False, writable: Sequence[str] = (), scratch: Sequence[str] = (),
) -> int:
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        stopping.set()
        raise SystemExit(128 + signum)

    # dpaguard's death is a stop too: nothing of the command may outlive it.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    isolated = isolate and _isolate()
    if isolate and required and not isolated:
        return NO_ISOLATION
    if isolated:
        init = os.fork()
        if init == 0:
            try:
                _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                ok = _mount_proc() and (not (writable or scratch) or _read_only_view(writable, scratch))
                code = _supervise(command, in_namespace=True) if ok else NO_VIEW
            except BaseException:  # noqa: BLE001 the init of the namespace must exit, whatever happens
                code = NO_VIEW
            # Killed by a signal (code -N): 128 + N, as a shell says it; `& 0xFF` alone would make SIGKILL 247.
            os._exit((code if code >= 0 else 128 - code) & 0xFF)
        try:
            _, status = os.waitpid(init, 0)
        except SystemExit:
            os.kill(init, signal.SIGKILL)
            os.waitpid(init, 0)
            raise
        return _exit_code(status)
    try:
        return _supervise(command, in_namespace=False)
    except SystemExit:
        kill_descendants(os.getpid())
        raise


_MODES = ("--require-isolation", "--isolate", "--no-isolate")
_USAGE = "usage: python -m dpaguard.contain --require-isolation|--isolate|--no-isolate [--writable DIR]... [--scratch DIR]... -- COMMAND...\n"


def main(argv: Sequence[str]) -> int:
    """`python -m dpaguard.contain MODE [--writable DIR]... [--scratch DIR]... -- COMMAND...`: run COMMAND contained; its exit code."""
    args = list(argv)
    if not args or args[0] not in _MODES or "--" not in args:
        sys.stderr.write(_USAGE)
        return 2
    split = args.index("--")
    options, command = args[1:split], args[split + 1:]
    folders: dict[str, list[str]] = {"--writable": [], "--scratch": []}
    if not command or len(options) % 2:
        sys.stderr.write(_USAGE)
        return 2
    for flag, folder in zip(options[::2], options[1::2]):
        if flag not in folders or not os.path.isabs(folder):
            sys.stderr.write(_USAGE)
            return 2
        folders[flag].append(folder)
    mode = args[0]
    if (folders["--writable"] or folders["--scratch"]) and mode == "--no-isolate":
        # a read-only view needs a mount namespace: without one, the command would run with write access
        return NO_ISOLATION
    code = _launch(command, mode != "--no-isolate", required=mode == "--require-isolation",
                   writable=folders["--writable"], scratch=folders["--scratch"])
    # A command killed by a signal: the launcher reports it the way a shell does.
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
