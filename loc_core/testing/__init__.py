"""Hypothesis strategies and state machines for test suites that build on `loc`.

Needs the ``testing`` extra (``pip install 'loc[testing]'``).
"""
