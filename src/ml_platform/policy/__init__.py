"""What a job may ask for (namespaces, claims, images, resources) and the refusal of
credentials written inline in a request."""
