"""The one door to the API server: the client (raw paged JSON over urllib3), kubeconfig and
credentials, proxies, the shapes answers must have, JSON decoding, credential redaction.
Imports nothing of the other parts but the shared leaves (`errors`)."""
