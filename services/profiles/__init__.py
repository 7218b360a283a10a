"""Worker skill profiles and the skills taxonomy: the system of record for who can do what."""
