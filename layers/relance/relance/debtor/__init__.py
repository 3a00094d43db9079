"""The debtor's page: a signed link in every reminder to see what is owed and answer (paid, dispute, promise)."""
