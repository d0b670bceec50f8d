"""Workflow modules compiled once a process, executed afresh for every workflow instance.

Temporal's sandbox runs a workflow's module again for every new workflow instance (fresh
globals, so what one run changes no other sees), on the worker's event loop. Python takes
the module's code from its bytecode file, or, where bytecode is not written
(``PYTHONDONTWRITEBYTECODE``, as in many container images), compiles the source again each
time: about half the cost of a new instance. :func:`install` puts a finder first on
``sys.meta_path`` that keeps the code object of each module of the ``workflows`` package
the first time it is made and hands the same one to every later import. The module is
still executed afresh each time: the sandbox's isolation is unchanged. A workflow module
changed on disk takes effect at the worker's next start, as the classes it registers do.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import CodeType, ModuleType

PACKAGE = "workflows"

_codes: dict[str, CodeType] = {}
_lock = threading.Lock()


class _CompiledOnceLoader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname: str) -> CodeType:
        code = _codes.get(self.path)
        if code is None:
            made = super().get_code(fullname)
            assert made is not None  # a source file always has code
            with _lock:
                code = _codes.setdefault(self.path, made)
        return code


class _WorkflowModules(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE and not fullname.startswith(f"{PACKAGE}."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = None if spec is None else spec.loader
        if spec is None or type(loader) is not importlib.machinery.SourceFileLoader:
            return spec
        spec.loader = _CompiledOnceLoader(loader.name, loader.path)
        return spec


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once a process)."""
    if not any(isinstance(f, _WorkflowModules) for f in sys.meta_path):
        sys.meta_path.insert(0, _WorkflowModules())
