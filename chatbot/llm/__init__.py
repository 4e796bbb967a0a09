"""Chat model backends behind LangChain's `BaseChatModel`: Ollama and embedded llama.cpp."""
