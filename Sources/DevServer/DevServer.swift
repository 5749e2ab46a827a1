// Placeholder: the HTTP server lands here (issue 4).
