"""Agents' state intervals (ready, ringing, on a call, wrap-up, paused), kept for occupancy (issue 6)."""
