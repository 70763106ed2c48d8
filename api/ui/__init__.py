"""Server-rendered pages for case managers, auditors and regulators, under /ui.

The pages call the tracker as the JSON routes do, behind the same API keys:
`session` signs people in (a key, kept in a signed HttpOnly cookie) and checks
each page's roles against `api.roles`; `render` holds the templates; `story` and
`chart` turn a program's record into its timeline chart (server-rendered SVG); `pages`, `signin` and
`regulator` are the routes.
`api/routers/ui.py` includes them and serves the static files.
"""
