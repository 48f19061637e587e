"""The ``script`` function of a Map: each mapping's Python expression runs in the script
sandbox (``engine/_sandbox.py``), one child process per Map shape run serving every script
mapping of the map, fed the inputs of a whole batch of documents at once."""

from __future__ import annotations

from ...errors import ConfigError
from ...model import MapComponent
from .._sandbox import Sandbox, SandboxResult, ScriptLimits, scripts_allowed

__all__ = ["MapScripts", "script_failure"]

# Names an expression can use besides ``inputs``; the result becomes text (None is empty).
PRELUDE = """\
import re, math, json, datetime, decimal
from decimal import Decimal
def _postroom_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    kind = type(value).__name__
    raise TypeError(f"the expression gave {'an' if kind[0] in 'aeiou' else 'a'} {kind}; "
                    "it must give text, a number, a date, True/False or None")
"""
CHUNK = 1000  # inputs sent to the child in one message


class MapScripts:
    """The script mappings of one map, evaluated in one child process (started on first use)."""

    def __init__(self, map_: MapComponent, shape_id: str) -> None:
        self.map_id = map_.id
        self.shape_id = shape_id
        numbers = [n for n, entry in enumerate(map_.mappings) if entry.function == "script"]
        self.piece = {number: i for i, number in enumerate(numbers)}
        # the expression starts on the first line of the code: its line numbers stay its own
        self.codes = [(f"result = _postroom_text(({map_.mappings[n].expression}\n))",
                       f"<script of mapping {n + 1} of map {map_.id}>") for n in numbers]
        self.sandbox: Sandbox | None = None
        self.unconfined_warned = False

    @staticmethod
    def wanted(map_: MapComponent) -> bool:
        return any(entry.function == "script" for entry in map_.mappings)

    def check_allowed(self) -> None:
        if not scripts_allowed():
            number = min(self.piece) + 1
            raise ConfigError(f"map {self.map_id}: mapping {number} is a script and scripts are turned off "
                              "(POSTROOM_ALLOW_SCRIPTS=false)", component=self.map_id, shape=self.shape_id,
                              field=f"mappings.{number - 1}.function",
                              fix="use another function, or set POSTROOM_ALLOW_SCRIPTS=true to allow scripts")

    def evaluate(self, requests: list[tuple[int, list[str]]]) -> list[SandboxResult]:
        """One result per (mapping number, input texts), in order; ``values["result"]`` is the text."""
        if not requests:
            return []
        sandbox = self._open()
        results: list[SandboxResult] = []
        for start in range(0, len(requests), CHUNK):
            part = requests[start:start + CHUNK]
            results.extend(sandbox.run([{"inputs": values} for _, values in part], {},
                                       [self.piece[number] for number, _ in part]))
        return results

    def unconfined(self) -> str:
        """Why the child runs without file confinement, the first time it is asked (else "")."""
        if self.sandbox is None or not self.sandbox.unconfined or self.unconfined_warned:
            return ""
        self.unconfined_warned = True
        return self.sandbox.unconfined

    def _open(self) -> Sandbox:
        if self.sandbox is None:
            (code, filename), *more = self.codes
            self.sandbox = Sandbox(code, filename, ["result"], ScriptLimits.from_env(), prelude=PRELUDE,
                                   more=more)
        return self.sandbox

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None


def script_failure(result: SandboxResult) -> str:
    """What a failed evaluation says, with the expression's line when known."""
    where = f" (line {result.line} of the expression)" if result.line else ""
    return f"the script {result.error}{where}"
