"""Post-call satisfaction survey: ratings linked to the call and the agent, satisfaction queries (issue 9)."""
