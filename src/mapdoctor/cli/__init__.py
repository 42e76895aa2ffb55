"""The command line: small command objects, one error boundary in ``main()``."""
