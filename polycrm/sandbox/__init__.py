"""The sandbox toolkit: what an integration developer needs around the three APIs.

Services (no HTTP): :mod:`~polycrm.sandbox.admin` (tenant admin keys),
:mod:`~polycrm.sandbox.snapshots` (save, restore, reset). The admin API under
``/_polycrm/`` (:mod:`~polycrm.sandbox.http`) is a thin layer over them.
See docs/sandbox.md.
"""
