"""The policy compiled by the engine: OPA compiles the modules and `data.dpa` once, when the policy is loaded, and the OPA engine evaluates with that instance; where OPA cannot load, regopy checks them.

A module that does not compile is a PolicyError naming its file, line and column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from dpaguard.engine.interface import DECISIONS_PATH
from dpaguard.errors import EngineError, PolicyError

_QUERY = "x = data." + DECISIONS_PATH.replace("/", ".")


_ERROR = re.compile(r"\(error \d+:(?P<file>[^|]+)\|(?P<offset>\d+)\|\d+\s+\(errormsg \d+:(?P<message>[^)\n]*)")


def rego_error_line(error: Exception, modules: Mapping[str, str]) -> str:
    """A regopy error as `file:line:column: message`, located from the byte offset rego-cpp reports."""
    text = str(error)
    match = _ERROR.search(text)
    if not match:
        first = " ".join(text.split())[:200]
        return f"Rego error: {first}"
    name, offset = match.group("file"), int(match.group("offset"))
    source = modules.get(name, "")
    prefix = source.encode("utf-8")[:offset].decode("utf-8", errors="ignore")
    line = prefix.count("\n") + 1
    column = offset - (prefix.rfind("\n") + 1) + 1 if "\n" in prefix else offset + 1
    return f"{name}:{line}:{column}: {match.group('message').strip()}"


def compile_modules(modules: Mapping[str, str], data: Mapping[str, Any], root: Path) -> Any:
    """Compile the Rego modules with OPA (regopy where OPA cannot load); PolicyError naming file and line.

    Returns what OPA compiled (a CompiledPolicy that the OPA engine takes rather than compiling the
    same modules again), None where regopy checked them.
    """
    # Here, not at the top: the OPA engine's module is loaded only when a policy is compiled.
    from dpaguard.engine.opa_inprocess import CompiledPolicy, compile_policy, error_line, load_bindings

    try:
        bindings = load_bindings()
    except EngineError:
        _compile_with_regopy(modules, data, root)
        return None
    try:
        opa = compile_policy(modules, data)
    except bindings.OpaError as error:
        raise PolicyError(error_line(error, root)) from None
    return CompiledPolicy(opa, modules, data)


def _compile_with_regopy(modules: Mapping[str, str], data: Mapping[str, Any], root: Path) -> None:
    import regopy

    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    try:
        interpreter.add_data({"dpa": data})
        for name, text in modules.items():
            interpreter.add_module(name, text)
        bundle = interpreter.build(_QUERY)
    except regopy.RegoError as error:
        raise PolicyError(f"{root}/{rego_error_line(error, modules)}") from None
    if not bundle.ok():
        raise PolicyError(f"{root}/rego: the policy modules do not compile")
