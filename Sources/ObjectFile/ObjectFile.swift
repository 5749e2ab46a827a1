// Placeholder: the ELF / Mach-O readers land here (issue 2).
