"""The agents' desk adapter: drives the pure agent state machine (``agents/state.py``) from AMI facts and
panel requests, executes the AMI commands it returns, and publishes every change on the live hub."""
