"""SecureSphere's version, as reports print it on every page."""

VERSION = "1.16.0"
