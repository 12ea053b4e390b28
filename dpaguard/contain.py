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
- stops everything at once on SIGTERM (dpaguard's timeout, SIGINT or SIGTERM), and when
  dpaguard dies (PR_SET_PDEATHSIG).

Linux only; elsewhere the launcher still runs the command, without these guarantees (SECURITY.md).
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
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
# Capabilities that reach into another process or the kernel: ptrace (environ, mem), raw I/O
# (/dev/mem, /proc/kcore), modules, sysadmin (umount the fresh /proc), BPF and perf.
_DROPPED_CAPS = (19, 17, 16, 21, 39, 38)


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


class Contained:
    """A command running under the launcher; `stop()` ends it and every process it started."""

    def __init__(
        self, command: Sequence[str], *, cwd: str, env: Mapping[str, str], isolate: bool,
        stdout: int | IO[Any] | None = subprocess.DEVNULL, stderr: int | IO[Any] | None = subprocess.DEVNULL,
    ) -> None:
        launcher = [sys.executable, "-m", "dpaguard.contain", "--isolate" if isolate else "--no-isolate", "--", *command]
        self.process = subprocess.Popen(
            launcher, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            start_new_session=True,
        )
        with _live_lock:
            _live.add(self)

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
    """Stop every contained command still running (dpaguard was interrupted or terminated)."""
    with _live_lock:
        running = list(_live)
    for contained in running:
        contained.stop()


def run(
    command: Sequence[str], *, cwd: Any, env: Mapping[str, str], timeout: float, capture_output: bool = True,
    check: bool = False, stdin: Any = None, text: bool = False,
) -> subprocess.CompletedProcess[Any]:
    """subprocess.run for a trusted tool (checkov): on timeout every process it started is killed, then TimeoutExpired."""
    del check, stdin  # always unchecked, stdin always closed
    pipe = subprocess.PIPE if capture_output else subprocess.DEVNULL
    contained = Contained(command, cwd=str(cwd), env=env, isolate=False, stdout=pipe, stderr=pipe)
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


def _launch(command: Sequence[str], isolate: bool) -> int:
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        stopping.set()
        raise SystemExit(128 + signum)

    # dpaguard's death is a stop too: nothing of the command may outlive it.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if isolate and _isolate():
        init = os.fork()
        if init == 0:
            try:
                _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                ok = _mount_proc()
                code = _supervise(command, in_namespace=True) if ok else 126
            except BaseException:  # noqa: BLE001 the init of the namespace must exit, whatever happens
                code = 126
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


def main(argv: Sequence[str]) -> int:
    """`python -m dpaguard.contain --isolate|--no-isolate -- COMMAND...`: run COMMAND contained; its exit code."""
    if len(argv) < 3 or argv[0] not in ("--isolate", "--no-isolate") or argv[1] != "--":
        sys.stderr.write("usage: python -m dpaguard.contain --isolate|--no-isolate -- COMMAND...\n")
        return 2
    code = _launch(argv[2:], argv[0] == "--isolate")
    # A command killed by a signal: the launcher reports it the way a shell does.
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
