"""ml-platform: training jobs on Kubernetes clusters joined by Karmada."""
