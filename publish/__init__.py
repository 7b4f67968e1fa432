"""Publish a validated artifact directory for Node.js consumers: an npm package with a QAClient."""
