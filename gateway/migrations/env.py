from gateway.api_keys import models  # noqa: F401  (registers the tables)
from gateway.tables import GatewayTable
from kernel.migrations import run_env

run_env(GatewayTable.metadata)
