"""Workflow modules are compiled once a process and executed afresh for every instance
(``worker.compiled_once``): the sandbox's isolation stays, the compiling goes."""

from __future__ import annotations

import importlib
import sys

from app.scenario_builder import Hub, open_request
from worker import compiled_once
from workflows import sharing_request


def test_a_workflow_module_is_compiled_once_and_executed_afresh_at_each_import() -> None:
    compiled_once.install()
    compiled_once.install()  # once a process, however often asked
    assert sum(isinstance(f, compiled_once._WorkflowModules) for f in sys.meta_path) == 1
    name = "workflows.answers"
    saved = sys.modules.pop(name, None)
    try:
        first = importlib.import_module(name)
        del sys.modules[name]
        second = importlib.import_module(name)
    finally:
        if saved is not None:
            sys.modules[name] = saved
    assert first is not second
    assert vars(first) is not vars(second)  # each import runs the module in its own globals
    loaders = first.__loader__, second.__loader__
    assert all(isinstance(loader, compiled_once._CompiledOnceLoader) for loader in loaders)
    assert first.__spec__ is not None and second.__spec__ is not None
    assert isinstance(first.__spec__.loader, compiled_once._CompiledOnceLoader)
    assert isinstance(second.__spec__.loader, compiled_once._CompiledOnceLoader)
    assert first.__spec__.loader.get_code(name) is second.__spec__.loader.get_code(name)


async def test_a_new_workflow_instance_takes_its_modules_code_from_the_cache(hub: Hub) -> None:
    compiled_once._codes.clear()
    await open_request(hub, "Cora Cached-Example", ["police"])
    # The sandbox imported the request's workflow module for the new instance, through
    # the finder: its code is kept for the next instance.
    assert sharing_request.__file__ in compiled_once._codes
