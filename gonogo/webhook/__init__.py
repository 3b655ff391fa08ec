"""`gonogo serve`: the webhook service that posts a verdict when a proposal ticket is created.

The flow, one module per step:

    app (HTTP edge) → intake: verify (signature/token) → classify (parse, filter)
    → queue (durable: queue.local / queue.redis) → worker (per-ticket lock, check, retry) → Jira

`verify` and `classify` are pure functions over bytes and plain data, testable without a server;
`app` only reads the request, hands it to `intake` and writes the answer; everything slow happens
on the worker threads after the delivery has been durably acknowledged.
"""
