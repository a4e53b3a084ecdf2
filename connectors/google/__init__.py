"""Google payloads (Gmail, Google Calendar) to records, and the batch wire format."""
