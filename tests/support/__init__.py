"""Helpers the tests of several folders share."""
