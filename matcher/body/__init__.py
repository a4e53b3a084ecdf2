"""Reading a message body: quoted zones, HTML structure, signature blocks and their fields.

Pure functions of the text (and, for a sender's learned signature, of a
value the caller passes in); the rest of the matcher asks this package who
wrote which part of a body and what their signature says.
"""
