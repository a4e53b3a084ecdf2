"""Mail parsing every mail source shares: MIME, mbox, header fields, charsets, dates."""
