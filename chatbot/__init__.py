"""The customer side and the application: settings, services, command line (and, later, chat)."""
