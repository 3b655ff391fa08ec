"""The portfolio over many tickets: rows worst first, and the sections every format shows."""
