"""One runtime per module. A runner loads one format once and answers many requests."""
