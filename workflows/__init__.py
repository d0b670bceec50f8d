"""Temporal workflows: orchestration only, deterministic, no I/O but activities.

Nothing is imported here: the sandbox runs this file for every new workflow instance
(it is the package of each workflow module), so importing every workflow from it would
rebuild all of them each time. The worker's list is ``worker.registry.WORKFLOWS``.
"""
