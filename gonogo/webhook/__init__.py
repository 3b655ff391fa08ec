"""`gonogo serve` and `gonogo worker`: a verdict posted when a proposal ticket is created.

The flow, one module per step: intake (HTTP edge): verify (signature/token) → classify (parse,
filter) → queue (durable: queue.local / queue.redis) → worker (per-ticket lock, check, retry) →
Jira; `service` wires them. `verify` and `classify` are pure functions over bytes and plain data,
testable without a server; the web side only verifies and enqueues; the checks run in worker
threads (and, on Redis, in `gonogo worker` processes) after the delivery is durably acknowledged.
"""
