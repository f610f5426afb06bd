"""The web application's blueprints, one module per group of routes."""
