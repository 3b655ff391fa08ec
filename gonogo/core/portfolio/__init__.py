"""The portfolio over many tickets: rows worst first, the patterns across them, how verdicts fared
and the sections every format shows.
"""
