"""The plugin's version, in a module of its own: the build key and the CLI read it
without importing the package's entry point (which imports the site)."""

__version__ = "0.1.0"
