"""The check of one ticket, in flow order: ticket → proposal (+ signals) → rules → findings → verdict,
with waivers, decisions, the verdict's history and the path to GO."""
