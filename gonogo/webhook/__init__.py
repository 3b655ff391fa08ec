"""`gonogo serve` and `gonogo worker`: a verdict posted when a proposal ticket is created.

intake (verify, classify: pure) → durable queue (local or redis) → worker threads → the check. The
checks run only after the delivery is durably stored, so a killed process loses no work.
"""
