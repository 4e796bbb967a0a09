"""Reading a business's website: its pages found through its sitemap or its links, fetched
politely and safely (guard.py), each page's main text a document (site.py)."""
