"""Contract suites for the ports: every adapter of a port runs the same tests.

A suite is a class without the ``Test`` prefix; an adapter's test module subclasses it
and provides the fixtures it names (the adapter under test, and `advance`, which moves
time forward: a manual clock for memory adapters, real waiting where time is real).
"""
