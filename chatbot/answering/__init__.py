"""Answering a customer: rewrite, retrieve, prompt, generate, guard."""
