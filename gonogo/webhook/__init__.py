"""`gonogo serve` and `gonogo worker`: a verdict posted when a proposal ticket is created.

intake (verify, classify: pure, over bytes and plain data) → queue (durable: local or redis) →
worker threads (and `gonogo worker` processes on Redis) → the check; `service` wires them. The
checks run only after the delivery is durably stored, so a killed process loses no work.
"""
