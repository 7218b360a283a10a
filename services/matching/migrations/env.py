from services.kernel.db import run_alembic_env
from services.matching import assignments_models, interests_models, runs_models
from services.matching.models import Base

# The table modules register themselves on Base.metadata by being imported.
assert assignments_models and interests_models and runs_models
run_alembic_env(Base.metadata)
