"""The renewal domain: pure rules over plain data (standard library only).

Nothing here reads a clock, a database or the network: callers pass the catalog,
the mailboxes and `now` in, and get facts back.
"""
