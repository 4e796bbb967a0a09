"""The web host: FastAPI with the Gradio customer chat mounted. The core never imports this."""
