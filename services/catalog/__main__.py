from services.catalog.main import SPEC
from services.catalog.settings import CatalogSettings
from services.kernel.runtime import main

main(SPEC, CatalogSettings, "services.catalog.main:create_app")
