"""WSGI entry point for gunicorn: ``clinical_bdd.wsgi:app``."""
from . import create_app

app = create_app()
