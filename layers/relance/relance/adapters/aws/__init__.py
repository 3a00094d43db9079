"""The ports implemented with boto3: the only place that imports boto3 or knows a table key."""
