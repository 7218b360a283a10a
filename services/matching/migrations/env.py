from services.kernel.db import run_alembic_env
from services.matching.models import Base

run_alembic_env(Base.metadata)
