"""What gonogo reads from disk and the environment: configuration, checklist and ticket files, resources."""
