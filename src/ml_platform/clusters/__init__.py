"""Member clusters as Karmada reports them, and read-only views of their resources."""
