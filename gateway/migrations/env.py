from gateway.api_clients import models as api_client_models  # noqa: F401
from gateway.api_keys import models  # noqa: F401  (registers the tables)
from gateway.audit import models as audit_models  # noqa: F401
from gateway.idempotency import models as idempotency_models  # noqa: F401
from gateway.staff import models as staff_models  # noqa: F401
from gateway.tables import GatewayTable
from kernel.migrations import run_env

run_env(GatewayTable.metadata)
