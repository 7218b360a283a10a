from services.kernel.runtime import main
from services.matching.main import SPEC
from services.matching.settings import MatchingSettings

main(SPEC, MatchingSettings, "services.matching.main:create_app")
