"""`gonogo serve`: the webhook service that posts a verdict when a proposal ticket is created.

The flow, one module per step:

    app (HTTP edge) → intake: verify (signature/token) → deliveries (parse, filter)
    → queue (durable: queue_local / queue_redis) → worker (per-ticket lock, check, retry) → Jira

`verify` and `deliveries` are pure functions over bytes and plain data, testable without a server;
`app` only reads the request, hands it to `intake` and writes the answer; everything slow happens
on the worker threads after the delivery has been durably acknowledged.
"""
