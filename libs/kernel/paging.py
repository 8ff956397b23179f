"""Paging parameters every list endpoint shares, bounded so no value can overflow a database integer."""

from typing import Annotated

from fastapi import Path, Query

Limit = Annotated[int, Query(ge=1, le=200, description="How many items at most")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="How many items to skip")]
# Integer ids in paths: at most a signed 63-bit value, as every backend stores them.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
