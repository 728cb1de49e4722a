"""Adapters: implementations of the core's ports over memory, DynamoDB, HTTP and queues."""
