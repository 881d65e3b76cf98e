"""The ABR test player: traces, network model, session model, QoE, offline optimum, ABR rules
(``abr/``) and the HTTP client that plays real output."""
