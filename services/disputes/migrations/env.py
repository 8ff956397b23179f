from kernel.migrations import run_env
from services.disputes.parties import models  # noqa: F401  (registers the tables)
from services.disputes.tables import DisputesTable

run_env(DisputesTable.metadata)
