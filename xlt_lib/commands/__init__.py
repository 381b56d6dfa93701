"""The ``xlt`` command groups, one module each, above every library layer.

Each module has ``register(subparsers)``, which adds its commands to the parser
`xlt_lib.cli` builds, and the handlers those commands call. They sit above every
layer because a command may combine several (``xlt run`` plans and executes an
experiment, then renders its report); no library module imports them. They stay
light at import, as ``xlt --help`` imports them all: heavy libraries (torch,
pandas, papermill) are imported inside the library functions that use them.
"""
