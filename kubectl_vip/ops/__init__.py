"""Workflows that read and write through `api`: gathering what classification and the doctor
need, the reclaim executor, rollout and sweep watching, fleet fan-out, bundle collection."""
