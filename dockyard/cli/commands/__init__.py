"""One module per verb: ``USAGE``, ``SHORT``, ``ARGS`` (min, max), ``flags(fs)``, ``main(app, opts, args)``."""
