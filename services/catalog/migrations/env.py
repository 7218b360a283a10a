from services.catalog.models import Base
from services.kernel.db import run_alembic_env

run_alembic_env(Base.metadata)
