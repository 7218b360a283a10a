"""The task catalog: deconstructed work (tasks, projects, gigs), its lifecycle and its events."""
