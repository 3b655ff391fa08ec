"""`gonogo serve`: the webhook service that posts a verdict when a proposal ticket is created.

The flow, one module per step:

    app (HTTP edge) → intake: verify (signature/token) → classify (parse, filter)
    → writer (one thread, group commit) → queue (durable: queue.local / queue.redis)
    → check process (checks_process, watched by supervisor): worker (per-ticket lock, check, retry) → Jira

`verify` and `classify` are pure functions over bytes and plain data, testable without a server;
`app` only reads the request, hands it to `intake` and writes the answer; everything slow happens
in the check process's worker threads after the delivery has been durably acknowledged.
"""
