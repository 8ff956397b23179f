from kernel.migrations import run_env
from services.bargaining.parties import models  # noqa: F401  (registers the tables)
from services.bargaining.tables import BargainingTable

run_env(BargainingTable.metadata)
