"""The operator commands of ``leadroute`` (import/export, assign, jobs, demo).

They talk to a running server through :mod:`leadroute.client` only, never to the database,
so they work against any leadroute (and, for the endpoints it has, Instantly). ``cli.py``
wires them in; each module here holds one command group.
"""
