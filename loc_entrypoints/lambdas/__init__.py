"""Lambda handlers: one module per function, each a thin ``handler(event, context)``.

Every handler builds its bus through the bootstrap once per container, on first use
(`_runtime.Runtime`), turns its event into commands, and hands them to the bus.
``docs/deploy.md`` lists every function, its trigger and its schedule; ``template.yaml``
deploys them. Importing a handler module builds nothing and reads no settings.
"""
