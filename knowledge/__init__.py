"""The staff side: business documents in, the right passages out.

This package knows nothing of chat or the web; `chatbot` depends on it, never the reverse.
"""
