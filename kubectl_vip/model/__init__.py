"""Pure decisions on data already read: field paths and records of the TKE objects, claim
states, durations, ipamd args and versions, settings rules, usage, describe, reclaim selection,
expiry impact. No I/O, no terminal: imports neither api, ops, cli nor term."""
