"""The `dpaguard` command: parses flags, calls the stages, maps errors to exit codes, nothing else.

Each subcommand is a module of this package with `HELP`, `add_arguments(parser)` and
`run(args) -> int`. Errors of the application (DpaguardError) are caught once, here, and printed
as one line on stderr with exit code 2; so is, as a last resort, any other exception (a bug: the
line names its type only, since its message could quote the input).
"""

from __future__ import annotations

import argparse
import atexit
import errno
import gc
import importlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn, Sequence

from dpaguard import __version__
from dpaguard.cli._console import printable, say, silence_stdout
from dpaguard.errors import DpaguardError

SUBCOMMANDS = ("check", "audit", "render", "controls", "export", "evidence", "data", "bundle")


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line usage error and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, printable(f"{self.prog}: error: {message} (see '{self.prog} --help')") + "\n")


if TYPE_CHECKING:
    _SubParsersAction = argparse._SubParsersAction[ArgumentParser]
else:  # not subscriptable at run time
    _SubParsersAction = argparse._SubParsersAction


class _Subcommands(_SubParsersAction):  # argparse takes its class as add_subparsers(action=)
    """The subcommands, each module imported when its command is chosen, or every one when the help lists them.

    So `dpaguard --version` imports no stage, and a command only the modules it uses: a cold start
    of the console script is mostly imports.
    """

    def load(self, name: str) -> None:
        """Import the subcommand `name` and give its sub-parser the module's help, flags and `run`."""
        parser = self._name_parser_map[name]
        if parser.get_default("_run") is not None:
            return
        module = importlib.import_module(f"dpaguard.cli.{name}")
        for choice in self._choices_actions:
            if choice.dest == name:
                choice.help = module.HELP
        parser.description = module.HELP
        module.add_arguments(parser)
        parser.set_defaults(_run=module.run)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if values and values[0] in self._name_parser_map:
            self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


class _TopParser(ArgumentParser):
    """The `dpaguard` parser: its help lists every subcommand's, so it loads them all first."""

    subcommands: _Subcommands

    def format_help(self) -> str:
        for name in SUBCOMMANDS:
            self.subcommands.load(name)
        return super().format_help()


def build_parser() -> ArgumentParser:
    """The whole command line: one sub-parser per subcommand module (imported when needed, see _Subcommands)."""
    parser = _TopParser(
        prog="dpaguard",
        description="Keep a Pulumi-managed estate inside its GDPR Data Processing Agreement.",
    )
    parser.add_argument("--version", action="version", version=f"dpaguard {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser, action=_Subcommands)
    assert isinstance(subparsers, _Subcommands)
    subparsers.required = True
    for name in SUBCOMMANDS:
        subparsers.add_parser(name, help="")
    parser.subcommands = subparsers
    return parser


# Signals whose default action ends dpaguard: each unwinds like Ctrl-C instead, so that renders are stopped
# and their temporary folders (a render's request holds the stack config's plaintext values) removed.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM)


class Terminated(BaseException):
    """A stop signal (SIGTERM, SIGHUP ...): unwinds like Ctrl-C; the exit code is 128 + its number, as a shell's."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(signum)


def _catch_stop_signals() -> None:
    for signum in STOP_SIGNALS:
        # a signal ignored when dpaguard started stays ignored (`nohup dpaguard ...` keeps running after SIGHUP)
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _terminate)


# CPython's cyclic collector walks every young object each time 700 more were made, and the older
# ones again and again as they pile up: a run holds millions of small dicts and strings (the export,
# its facts, the findings, the report), few of them in cycles, which refcounting frees anyway. With
# the default thresholds (700, 10, 10) the collector took a fifth of the CPU of an audit of 40,000
# resources (10.4 s of 59), with these 1.4 s, for a peak 2 % higher (924 MB against 907); mypy
# runs with the same.
GC_THRESHOLDS = (200_000, 30, 30)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        _catch_stop_signals()
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        code = int(args._run(args))
        _finish_background()  # inside the try: a signal while it waits ends the command as any other would
        return code
    except DpaguardError as error:
        say(error.one_line())
        return 2
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except Terminated as stop:
        say("terminated" if stop.signum == signal.SIGTERM else f"stopped by {signal.Signals(stop.signum).name}")
        return 128 + stop.signum
    except Exception as error:  # the last resort: a bug must still fail closed, in one line
        if isinstance(error, OSError) and error.errno == errno.EPIPE:
            silence_stdout()
        say(f"internal error ({type(error).__name__}): this is a bug in dpaguard, please report it "
            "with the command you ran")
        return 2
    finally:
        gc.set_threshold(*thresholds)


def run() -> NoReturn:
    """The console script (and `python -m dpaguard`): main(), then exit without freeing the run's objects one by one.

    A run holds millions of small objects (the export, the facts, the findings, the report), which the
    interpreter's teardown frees one at a time. Where main() left no other thread, the exit handlers
    run and the standard streams are flushed, as at any exit, and the process ends there (mypy does
    alike). A stream that cannot be flushed, or a thread still running, gets Python's own exit.
    """
    code = main()
    if threading.active_count() == 1:
        try:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:  # a stream closed when dpaguard started is None
                    stream.flush()
        except (OSError, ValueError):
            sys.exit(code)
        atexit._run_exitfuncs()
        os._exit(code)
    sys.exit(code)


def _finish_background() -> None:
    """Wait for the bytecode fills a render started (dpaguard.source.bytecode): none outlives the command."""
    filling = sys.modules.get("dpaguard.source.bytecode")  # not loaded: no render ran, nothing to wait for
    if filling is not None:
        filling.finish_pending()


if __name__ == "__main__":
    run()
