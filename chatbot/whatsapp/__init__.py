"""The bot on WhatsApp, through Meta's WhatsApp Business Cloud API (docs/WHATSAPP.md)."""
