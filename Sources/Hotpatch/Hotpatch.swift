// Placeholder: the pipeline stages land here (issues 2 and 3).
