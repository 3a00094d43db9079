"""AWS adapters: the only package of the core that imports boto3/botocore or knows the table's keys."""
