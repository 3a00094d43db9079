"""boto3 implementations of the core's ports: the only package that talks to AWS."""
