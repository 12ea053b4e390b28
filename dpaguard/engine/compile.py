"""The policy compiled once, when it is loaded, by the engine that evaluates it by default.

OPA compiles the modules and `data.dpa` and the OPA engine evaluates with that instance; where
OPA cannot load, the default engine is regopy, and regopy builds the interpreter it evaluates with.
A module that does not compile is a PolicyError naming its file, line and column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from dpaguard.errors import EngineError, PolicyError

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

    Returns what was compiled, for the engine that evaluates the policy to take rather than compile
    the same modules again: OPA's instance (CompiledPolicy), or regopy's interpreter (CompiledRego)
    where OPA cannot load, which is when the default engine falls back to regopy.
    """
    # Here, not at the top: the engines' modules are loaded only when a policy is compiled.
    from dpaguard.engine.opa_inprocess import CompiledPolicy, compile_policy, error_line, load_bindings

    try:
        bindings = load_bindings()
    except EngineError:
        return _compile_with_regopy(modules, data, root)
    try:
        opa = compile_policy(modules, data)
    except bindings.OpaError as error:
        raise PolicyError(error_line(error, root)) from None
    return CompiledPolicy(opa, modules, data)


def _compile_with_regopy(modules: Mapping[str, str], data: Mapping[str, Any], root: Path) -> Any:
    import regopy

    from dpaguard.engine.embedded import CompiledRego, build_interpreter

    try:
        interpreter, bundle = build_interpreter(regopy, modules, data)
    except regopy.RegoError as error:
        raise PolicyError(f"{root}/{rego_error_line(error, modules)}") from None
    if not bundle.ok():
        raise PolicyError(f"{root}/rego: the policy modules do not compile")
    return CompiledRego(interpreter, bundle, modules, data)
