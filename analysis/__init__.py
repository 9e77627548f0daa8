"""Did skills emerge? Probes, transfer and honest statistics (DESIGN, "Skills and how they are probed")."""
