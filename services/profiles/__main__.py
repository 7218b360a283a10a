from services.kernel.runtime import main
from services.profiles.main import SPEC
from services.profiles.settings import ProfilesSettings

main(SPEC, ProfilesSettings, "services.profiles.main:create_app")
