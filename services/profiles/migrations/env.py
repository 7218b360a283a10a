from services.kernel.db import run_alembic_env
from services.profiles.models import Base

run_alembic_env(Base.metadata)
