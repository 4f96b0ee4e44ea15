"""The one door to the terminal: tables, colour, progress, documents, and the escaping every
string from the API passes through. Imports nothing of the other parts."""
