"""Prefect flows: a thin layer over the same functions the in-process CLI uses.

Importing this package sets Prefect's offline defaults (flows/_env.py) before Prefect
itself is imported, so always import `commune_metrics.flows...` before `prefect`.
"""

from commune_metrics.core.lifecycle import bind_to_parent_from_env
from commune_metrics.flows._env import configure_prefect_env

configure_prefect_env()
# In a flow-run process started by `serve`: end with serve from the first import on, even
# before the flow body runs (no-op anywhere else: see core.lifecycle).
bind_to_parent_from_env()
