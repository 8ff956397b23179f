from kernel.migrations import run_env
from services.registry.organisations import models  # noqa: F401  (registers the tables)
from services.registry.tables import RegistryTable

run_env(RegistryTable.metadata)
