from kernel.migrations import run_env
from services.bargaining.amendments import models as amendment_models  # noqa: F401  (registers the tables)
from services.bargaining.commissions import models as commission_models  # noqa: F401  (registers the tables)
from services.bargaining.commitments import models as commitment_models  # noqa: F401  (registers the tables)
from services.bargaining.negotiations import models as negotiation_models  # noqa: F401  (registers the tables)
from services.bargaining.parties import models  # noqa: F401  (registers the tables)
from services.bargaining.tables import BargainingTable

run_env(BargainingTable.metadata)
